"""Google save/delete callbacks: the nonces already handled and the objects' saved state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession


async def first_time(db: AsyncSession, nonce: str, object_id: str, event_type: str) -> bool:
    """Record the callback; False when this nonce was handled before (Google retries, replays)."""
    result = await db.execute(
        text(
            "INSERT INTO google_callbacks (nonce, object_id, event_type) VALUES (:n, :o, :e) "
            "ON CONFLICT (nonce) DO NOTHING RETURNING 1"
        ),
        {"n": nonce, "o": object_id, "e": event_type},
    )
    return result.first() is not None


async def set_saved(db: AsyncSession, object_id: str, saved: bool) -> Row[Any] | None:
    """Mark the object saved or removed; the pass (id, tenant, mode, member) and whether it changed."""
    return (
        await db.execute(
            text(
                "UPDATE google_objects g SET saved = :s, saved_changed_at = now() FROM google_objects o "
                "JOIN passes p ON p.id = o.pass_id WHERE g.pass_id = o.pass_id AND g.object_id = :o "
                "RETURNING p.id, p.tenant_id, p.mode, p.member_id, o.saved IS DISTINCT FROM :s AS changed"
            ),
            {"o": object_id, "s": saved},
        )
    ).first()


async def saved_passes(db: AsyncSession, pass_ids: list[Any]) -> set[Any]:
    """Of these Google passes, the ones saved in a Google Wallet."""
    if not pass_ids:
        return set()
    rows = await db.execute(
        text("SELECT pass_id FROM google_objects WHERE pass_id = ANY(CAST(:p AS uuid[])) AND saved"),
        {"p": pass_ids},
    )
    return {r[0] for r in rows}
