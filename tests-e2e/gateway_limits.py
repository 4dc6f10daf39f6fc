"""Raising a test key's limits the operator's way: limits are not the tenant's to set through the API
(`nujoomy keys limits` / `tenant-limits` write these same rows). Written before the key's first use,
so no replica holds it in its cache yet."""

from __future__ import annotations

import asyncpg
from nujoomy_kit.db import plain_url
from nujoomy_partner_gateway.domain.keys import hash_key


async def raise_limits(
    database_url: str, secret: str, *, rate: float, burst: int, max_in_flight: int
) -> None:
    """The key's own rate, burst and concurrency, and its tenant plane's aggregate to match."""
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                "UPDATE api_keys SET rate = $2, burst = $3, max_in_flight = $4 WHERE sha256 = $1"
                " RETURNING tenant_id, mode",
                hash_key(secret),
                rate,
                burst,
                max_in_flight,
            )
            assert row is not None, "no such key"
            await conn.execute(
                "INSERT INTO tenant_limits (tenant_id, mode, rate, burst) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (tenant_id, mode) DO UPDATE SET rate = $3, burst = $4",
                row["tenant_id"],
                row["mode"],
                rate,
                burst,
            )
    finally:
        await conn.close()
