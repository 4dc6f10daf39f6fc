"""The engine factory's pre-ping: on by default (a request survives a connection the server
dropped); off, the first transaction on such a connection fails and the next one, on a fresh
connection, succeeds — which is what a worker relying on redelivery needs."""

from __future__ import annotations

import asyncpg
import pytest
from nujoomy_kit.db import make_engine, plain_url
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def drop_connection(pg_url: str, pid: int) -> None:
    """What a server restart or an idle timeout in a proxy does to a pooled connection."""
    admin = await asyncpg.connect(plain_url(pg_url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_with_pre_ping_a_dropped_pooled_connection_is_replaced_unseen(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        first = await backend_pid(engine)
        await drop_connection(pg_url, first)
        assert await backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_without_pre_ping_one_transaction_fails_and_the_next_gets_a_fresh_connection(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, pre_ping=False)
    try:
        first = await backend_pid(engine)
        await drop_connection(pg_url, first)
        with pytest.raises(DBAPIError):
            await backend_pid(engine)
        assert await backend_pid(engine) != first
    finally:
        await engine.dispose()
