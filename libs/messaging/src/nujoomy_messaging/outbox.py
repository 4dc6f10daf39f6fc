"""Writing events into the outbox, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nujoomy_contracts import Envelope, encode_envelope
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_INSERT = text(
    "INSERT INTO outbox (event_id, aggregate, routing_key, body) "
    "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:aggs AS text[]), CAST(:keys AS text[]), "
    "CAST(:bodies AS bytea[]))"
)


async def add_events(db: AsyncSession | AsyncConnection, events: Sequence[tuple[Envelope[Any], str]]) -> None:
    """Insert (envelope, aggregate key) pairs in one statement. Nothing is sent until the commit."""
    if not events:
        return
    await db.execute(
        _INSERT,
        {
            "ids": [e.id for e, _ in events],
            "aggs": [agg for _, agg in events],
            "keys": [e.type for e, _ in events],
            "bodies": [encode_envelope(e) for e, _ in events],
        },
    )


async def add_event(db: AsyncSession | AsyncConnection, envelope: Envelope[Any], aggregate: str) -> None:
    await add_events(db, [(envelope, aggregate)])
