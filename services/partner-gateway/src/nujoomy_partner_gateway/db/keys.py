"""API key rows: create, list, revoke, roll. Every query is scoped to (tenant, mode)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from nujoomy_kit.ids import uuid7
from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.db.tables import api_keys, tenant_limits
from nujoomy_partner_gateway.domain.keys import Mode, generate_key, hash_key, redacted


async def create_key(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: Mode,
    *,
    name: str,
    scopes: list[str],
    rate: float | None = None,
    burst: int | None = None,
    max_in_flight: int | None = None,
    rolled_from: uuid.UUID | None = None,
) -> tuple[Row[Any], str]:
    """Returns the row and the secret, which exists only in this return value."""
    secret = generate_key(mode)
    row = (
        await db.execute(
            insert(api_keys)
            .values(
                id=uuid7(),
                tenant_id=tenant_id,
                mode=mode,
                name=name,
                sha256=hash_key(secret),
                redacted=redacted(secret),
                scopes=scopes,
                rate=rate,
                burst=burst,
                max_in_flight=max_in_flight,
                rolled_from=rolled_from,
            )
            .returning(api_keys)
        )
    ).one()
    return row, secret


async def list_keys(db: AsyncSession, tenant_id: uuid.UUID, mode: Mode) -> list[Row[Any]]:
    result = await db.execute(
        select(api_keys)
        .where(api_keys.c.tenant_id == tenant_id, api_keys.c.mode == mode)
        .order_by(api_keys.c.created_at.desc())
    )
    return list(result.all())


async def get_key(db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, key_id: uuid.UUID) -> Row[Any] | None:
    result = await db.execute(
        select(api_keys).where(
            api_keys.c.id == key_id, api_keys.c.tenant_id == tenant_id, api_keys.c.mode == mode
        )
    )
    return result.first()


async def revoke_key(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, key_id: uuid.UUID
) -> Row[Any] | None:
    result = await db.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.tenant_id == tenant_id, api_keys.c.mode == mode)
        .values(revoked_at=datetime.now(UTC))
        .returning(api_keys)
    )
    return result.first()


async def roll_key(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, key_id: uuid.UUID, grace_seconds: int
) -> tuple[Row[Any], str, Row[Any]] | None:
    """A new key with the same settings; the old one keeps working for `grace_seconds`."""
    old = (
        await db.execute(
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                api_keys.c.tenant_id == tenant_id,
                api_keys.c.mode == mode,
                api_keys.c.revoked_at.is_(None),
            )
            .values(expires_at=datetime.now(UTC) + timedelta(seconds=grace_seconds))
            .returning(api_keys)
        )
    ).first()
    if old is None:
        return None
    new, secret = await create_key(
        db,
        tenant_id,
        mode,
        name=old.name,
        scopes=list(old.scopes),
        rate=old.rate,
        burst=old.burst,
        max_in_flight=old.max_in_flight,
        rolled_from=old.id,
    )
    return new, secret, old


async def lock_plane(db: AsyncSession, tenant_id: uuid.UUID, mode: Mode) -> None:
    """Serialises key creation in one tenant plane until the transaction ends, so two concurrent
    creations cannot both pass the key cap."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:plane, 0))"),
        {"plane": f"api_keys:{tenant_id}:{mode}"},
    )


async def working_keys(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, *, excluding: uuid.UUID | None = None
) -> int:
    """Keys of the plane that still authenticate: not revoked, and not past a roll's grace period."""
    query = select(func.count()).where(
        api_keys.c.tenant_id == tenant_id,
        api_keys.c.mode == mode,
        api_keys.c.revoked_at.is_(None),
        or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > func.now()),
    )
    if excluding is not None:
        query = query.where(api_keys.c.id != excluding)
    return int((await db.execute(query)).scalar_one())


async def set_key_limits(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: Mode,
    *,
    key_id: uuid.UUID,
    rate: float | None,
    burst: int | None,
    max_in_flight: int | None,
) -> Row[Any] | None:
    result = await db.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.tenant_id == tenant_id, api_keys.c.mode == mode)
        .values(rate=rate, burst=burst, max_in_flight=max_in_flight)
        .returning(api_keys)
    )
    return result.first()


async def get_tenant_limits(db: AsyncSession, tenant_id: uuid.UUID, mode: Mode) -> Row[Any] | None:
    result = await db.execute(
        select(tenant_limits).where(tenant_limits.c.tenant_id == tenant_id, tenant_limits.c.mode == mode)
    )
    return result.first()


async def set_tenant_limits(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: Mode,
    *,
    rate: float | None,
    burst: int | None,
    max_keys: int | None,
) -> Row[Any]:
    values = {"rate": rate, "burst": burst, "max_keys": max_keys, "updated_at": func.now()}
    result = await db.execute(
        pg_insert(tenant_limits)
        .values(tenant_id=tenant_id, mode=mode, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "mode"], set_=values)
        .returning(tenant_limits)
    )
    return result.one()


async def plane_key_hashes(db: AsyncSession, tenant_id: uuid.UUID, mode: Mode) -> list[str]:
    """The hashes of the plane's unrevoked keys: what to announce when the plane's limits change."""
    result = await db.execute(
        select(api_keys.c.sha256).where(
            api_keys.c.tenant_id == tenant_id, api_keys.c.mode == mode, api_keys.c.revoked_at.is_(None)
        )
    )
    return list(result.scalars())
