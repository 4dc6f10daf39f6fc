"""Keyset batches for the CSV exports: one short query per batch, never one long transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MEMBER_COLUMNS = (
    "id", "name", "email", "phone", "external_id", "status", "balance", "lifetime", "created_at",
)  # fmt: skip
TRANSACTION_COLUMNS = (
    "id", "member_id", "kind", "points", "balance_after", "reference", "reason", "reverses", "created_at",
)  # fmt: skip


async def member_batch(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, after: uuid.UUID | None, limit: int
) -> Sequence[Any]:
    sql = (
        "SELECT m.id, m.name, m.email, m.phone, m.external_id, m.status, b.balance, b.lifetime, m.created_at "
        "FROM members m JOIN balances b ON b.account_id = m.id "
        "WHERE m.tenant_id = :tenant AND m.mode = :mode"
        + (" AND m.id > :after" if after else "")
        + " ORDER BY m.id LIMIT :limit"
    )
    params = {"tenant": tenant_id, "mode": mode, "after": after, "limit": limit}
    return (await session.execute(text(sql), params)).all()


async def transaction_batch(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, after: uuid.UUID | None, limit: int
) -> Sequence[Any]:
    sql = (
        "SELECT t.id, t.member_id, t.kind, t.points, t.balance_after, t.reference, t.reason, t.reverses, "
        "t.created_at FROM transactions t WHERE t.tenant_id = :tenant AND t.mode = :mode"
        + (" AND t.id > :after" if after else "")
        + " ORDER BY t.id LIMIT :limit"
    )
    params = {"tenant": tenant_id, "mode": mode, "after": after, "limit": limit}
    return (await session.execute(text(sql), params)).all()
