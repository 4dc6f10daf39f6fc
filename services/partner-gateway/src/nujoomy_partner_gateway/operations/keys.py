"""Creating and rolling API keys within the plane's cap on keys (the dashboard's and the CLI's way).

The cap bounds what a tenant can spend: each key has its own rate and concurrency budget, so a
tenant that could create keys without end could multiply its share of the gateway. A tenant
plane's limits are operator settings (`nujoomy keys tenant-limits`), never the tenant's own.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.db import keys as db_keys
from nujoomy_partner_gateway.domain.errors import ApiKeyLimitReached
from nujoomy_partner_gateway.domain.keys import Mode


async def _check_cap(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, default_cap: int, excluding: uuid.UUID | None = None
) -> None:
    await db_keys.lock_plane(db, tenant_id, mode)
    limits = await db_keys.get_tenant_limits(db, tenant_id, mode)
    cap = limits.max_keys if limits is not None and limits.max_keys is not None else default_cap
    if await db_keys.working_keys(db, tenant_id, mode, excluding=excluding) >= cap:
        raise ApiKeyLimitReached(
            f"This account may hold {cap} working {mode} keys; revoke one first", max_keys=cap
        )


async def create_key(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, *, name: str, scopes: list[str], default_cap: int
) -> tuple[Row[Any], str]:
    await _check_cap(db, tenant_id, mode, default_cap)
    return await db_keys.create_key(db, tenant_id, mode, name=name, scopes=scopes)


async def roll_key(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: Mode,
    key_id: uuid.UUID,
    *,
    grace_seconds: int,
    default_cap: int,
) -> tuple[Row[Any], str, Row[Any]] | None:
    """The rolled key is on its way out, so it does not count: a plane at its cap can still roll
    (and rolling again and again keeps at most cap + 1 keys working)."""
    await _check_cap(db, tenant_id, mode, default_cap, excluding=key_id)
    return await db_keys.roll_key(db, tenant_id, mode, key_id, grace_seconds)
