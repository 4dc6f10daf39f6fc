"""Queries over tenants, programs, rewards and locations. Every query names its tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db.tables import locations, programs, rewards, tenants


async def insert_tenant(db: AsyncSession, values: dict[str, Any]) -> bool:
    """False when the slug is taken (the unique index decides, so two racing creates cannot both win)."""
    result = await db.execute(
        pg_insert(tenants)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["slug"])
        .returning(tenants.c.id)
    )
    return result.first() is not None


async def tenant_by_id(db: AsyncSession, tenant_id: uuid.UUID) -> RowMapping | None:
    return (await db.execute(select(tenants).where(tenants.c.id == tenant_id))).mappings().first()


async def tenant_by_slug(db: AsyncSession, slug: str) -> RowMapping | None:
    return (await db.execute(select(tenants).where(tenants.c.slug == slug))).mappings().first()


async def update_tenant(db: AsyncSession, tenant_id: uuid.UUID, values: dict[str, Any]) -> None:
    if values:
        await db.execute(update(tenants).where(tenants.c.id == tenant_id).values(**values))


async def tenant_count(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(tenants))).scalar_one())


async def suspended_tenant_ids(db: AsyncSession) -> list[uuid.UUID]:
    rows = await db.execute(select(tenants.c.id).where(tenants.c.status == "suspended"))
    return list(rows.scalars())


async def insert_program(db: AsyncSession, values: dict[str, Any]) -> None:
    await db.execute(insert(programs).values(**values))


async def program_for(db: AsyncSession, tenant_id: uuid.UUID, *, lock: bool = False) -> RowMapping | None:
    query = select(programs).where(programs.c.tenant_id == tenant_id)
    if lock:
        # Program edits serialise on the program row, so versions and their events come out in order.
        query = query.with_for_update()
    return (await db.execute(query)).mappings().first()


async def update_program(db: AsyncSession, tenant_id: uuid.UUID, values: dict[str, Any]) -> None:
    if values:
        await db.execute(update(programs).where(programs.c.tenant_id == tenant_id).values(**values))


async def bump_program_version(db: AsyncSession, tenant_id: uuid.UUID) -> None:
    await db.execute(
        update(programs).where(programs.c.tenant_id == tenant_id).values(version=programs.c.version + 1)
    )


async def rewards_for(db: AsyncSession, tenant_id: uuid.UUID) -> Sequence[RowMapping]:
    query = (
        select(rewards)
        .where(rewards.c.tenant_id == tenant_id, rewards.c.deleted.is_(False))
        .order_by(rewards.c.cost, rewards.c.id)
    )
    return (await db.execute(query)).mappings().all()


async def reward(db: AsyncSession, tenant_id: uuid.UUID, reward_id: uuid.UUID) -> RowMapping | None:
    query = select(rewards).where(
        rewards.c.tenant_id == tenant_id, rewards.c.id == reward_id, rewards.c.deleted.is_(False)
    )
    return (await db.execute(query)).mappings().first()


async def insert_reward(db: AsyncSession, values: dict[str, Any]) -> None:
    await db.execute(insert(rewards).values(**values))


async def update_reward(
    db: AsyncSession, tenant_id: uuid.UUID, reward_id: uuid.UUID, values: dict[str, Any]
) -> None:
    if values:
        await db.execute(
            update(rewards)
            .where(rewards.c.tenant_id == tenant_id, rewards.c.id == reward_id)
            .values(**values)
        )


async def locations_for(
    db: AsyncSession, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> Sequence[RowMapping]:
    query = select(locations).where(locations.c.tenant_id == tenant_id, locations.c.archived_at.is_(None))
    if after is not None:
        query = query.where(locations.c.id > after)
    return (await db.execute(query.order_by(locations.c.id).limit(limit))).mappings().all()


async def location(db: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID) -> RowMapping | None:
    query = select(locations).where(
        locations.c.tenant_id == tenant_id, locations.c.id == location_id, locations.c.archived_at.is_(None)
    )
    return (await db.execute(query)).mappings().first()


async def insert_location(db: AsyncSession, values: dict[str, Any]) -> None:
    await db.execute(insert(locations).values(**values))


async def update_location(
    db: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID, values: dict[str, Any]
) -> None:
    if values:
        await db.execute(
            update(locations)
            .where(
                locations.c.tenant_id == tenant_id,
                locations.c.id == location_id,
                locations.c.archived_at.is_(None),
            )
            .values(**values)
        )


async def archive_location(db: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID) -> bool:
    """False when there is no such live location (another tenant's, or archived already)."""
    result = await db.execute(
        update(locations)
        .where(
            locations.c.tenant_id == tenant_id,
            locations.c.id == location_id,
            locations.c.archived_at.is_(None),
        )
        .values(archived_at=func.now())
        .returning(locations.c.id)
    )
    return result.first() is not None
