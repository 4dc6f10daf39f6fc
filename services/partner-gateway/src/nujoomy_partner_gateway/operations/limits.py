"""Operator settings for the edge's limits: a key's rate, burst and concurrency, and a tenant plane's
aggregate rate and cap on keys. Only the `nujoomy keys limits|tenant-limits` commands call these;
no tenant-facing route can. A change is committed, then announced like a revoke, so every replica
reloads the affected keys within a second.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis.asyncio as redis
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.db import keys as db_keys
from nujoomy_partner_gateway.domain.keys import Mode
from nujoomy_partner_gateway.edge.keystore import publish_invalidation


async def set_key_limits(
    db: AsyncSession,
    client: redis.Redis,
    prefix: str,
    *,
    tenant_id: uuid.UUID,
    mode: Mode,
    key_id: uuid.UUID,
    rate: float | None,
    burst: int | None,
    max_in_flight: int | None,
) -> Row[Any] | None:
    """None (for any of them): the mode's default. Returns None if the plane has no such key."""
    row = await db_keys.set_key_limits(
        db, tenant_id, mode, key_id=key_id, rate=rate, burst=burst, max_in_flight=max_in_flight
    )
    if row is None:
        return None
    await db.commit()
    await publish_invalidation(client, prefix, row.sha256)
    return row


async def set_tenant_limits(
    db: AsyncSession,
    client: redis.Redis,
    prefix: str,
    *,
    tenant_id: uuid.UUID,
    mode: Mode,
    rate: float | None,
    burst: int | None,
    max_keys: int | None,
) -> Row[Any]:
    row = await db_keys.set_tenant_limits(db, tenant_id, mode, rate=rate, burst=burst, max_keys=max_keys)
    hashes = await db_keys.plane_key_hashes(db, tenant_id, mode)
    await db.commit()
    for sha256 in hashes:  # each key carries its plane's policy in the replicas' caches
        await publish_invalidation(client, prefix, sha256)
    return row
