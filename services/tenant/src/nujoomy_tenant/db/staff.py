"""Queries over staff, their one-time tokens and their refresh tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db.tables import refresh_tokens, staff, staff_tokens, tenants


async def insert_staff(db: AsyncSession, values: dict[str, Any]) -> bool:
    """False when the email already exists in this tenant."""
    result = await db.execute(
        pg_insert(staff)
        .values(**values)
        .on_conflict_do_nothing(constraint="staff_tenant_email_key")
        .returning(staff.c.id)
    )
    return result.first() is not None


async def staff_member(db: AsyncSession, tenant_id: uuid.UUID, staff_id: uuid.UUID) -> RowMapping | None:
    query = select(staff).where(staff.c.tenant_id == tenant_id, staff.c.id == staff_id)
    return (await db.execute(query)).mappings().first()


async def staff_for_login(db: AsyncSession, slug: str, email: str) -> RowMapping | None:
    """The staff row with its tenant's status, or None when either does not exist."""
    query = (
        select(staff, tenants.c.status.label("tenant_status"), tenants.c.slug.label("tenant_slug"))
        .join(tenants, tenants.c.id == staff.c.tenant_id)
        .where(tenants.c.slug == slug, staff.c.email == email)
    )
    return (await db.execute(query)).mappings().first()


async def staff_list(
    db: AsyncSession, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> Sequence[RowMapping]:
    query = select(staff).where(staff.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(staff.c.id > after)
    return (await db.execute(query.order_by(staff.c.id).limit(limit))).mappings().all()


async def update_staff(
    db: AsyncSession, tenant_id: uuid.UUID, staff_id: uuid.UUID, values: dict[str, Any]
) -> None:
    if values:
        await db.execute(
            update(staff).where(staff.c.tenant_id == tenant_id, staff.c.id == staff_id).values(**values)
        )


async def active_owner_count(db: AsyncSession, tenant_id: uuid.UUID) -> int:
    # Locks the owners so two managers demoting the last two owners at once cannot both succeed.
    query = (
        select(staff.c.id)
        .where(staff.c.tenant_id == tenant_id, staff.c.role == "owner", staff.c.disabled.is_(False))
        .with_for_update()
    )
    return len((await db.execute(query)).all())


async def insert_setup_token(db: AsyncSession, values: dict[str, Any]) -> None:
    await db.execute(insert(staff_tokens).values(**values))


async def consume_setup_token(db: AsyncSession, token_hash: str, now: datetime) -> RowMapping | None:
    """Marks a valid invite/reset token used and returns it; None if unknown, used or expired."""
    result = await db.execute(
        update(staff_tokens)
        .where(
            staff_tokens.c.token_hash == token_hash,
            staff_tokens.c.used_at.is_(None),
            staff_tokens.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(staff_tokens)
    )
    row: RowMapping | None = result.mappings().first()
    return row


async def insert_refresh_token(db: AsyncSession, values: dict[str, Any]) -> None:
    await db.execute(insert(refresh_tokens).values(**values))


async def refresh_token(db: AsyncSession, token_hash: str) -> RowMapping | None:
    # FOR UPDATE: two concurrent refreshes with the same token see each other; the second is a reuse.
    query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).with_for_update()
    return (await db.execute(query)).mappings().first()


async def mark_refresh_used(db: AsyncSession, token_hash: str, now: datetime) -> None:
    await db.execute(
        update(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).values(used_at=now)
    )


async def revoke_family(db: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await db.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_staff_sessions(
    db: AsyncSession, tenant_id: uuid.UUID, staff_id: uuid.UUID, now: datetime
) -> None:
    await db.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.tenant_id == tenant_id,
            refresh_tokens.c.staff_id == staff_id,
            refresh_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


async def staff_count(db: AsyncSession, tenant_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(staff).where(staff.c.tenant_id == tenant_id)
    return int((await db.execute(query)).scalar_one())


async def purge_expired(db: AsyncSession, before: datetime) -> int:
    """Delete refresh and one-time tokens that expired before `before`; nothing can use them again."""
    refresh = await db.execute(refresh_tokens.delete().where(refresh_tokens.c.expires_at < before))
    setup = await db.execute(staff_tokens.delete().where(staff_tokens.c.expires_at < before))
    return int(getattr(refresh, "rowcount", 0) or 0) + int(getattr(setup, "rowcount", 0) or 0)
