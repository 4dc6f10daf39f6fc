"""Calls into ledger_post (migrations/sql/ledger_post.sql) and reads of the ledger's rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class PostResult(msgspec.Struct, kw_only=True):
    outcome: str  # posted | replay | insufficient | no_member
    transaction_id: uuid.UUID | None
    balance: int
    lifetime: int
    reserved: int
    sequence: int
    available: int
    created_at: datetime | None
    request: dict[str, Any] | None


class TransactionRow(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    member_id: uuid.UUID
    kind: str
    points: int
    balance_after: int
    request: dict[str, Any]
    reverses: uuid.UUID | None
    reversed_by: uuid.UUID | None = None
    program_version: int | None
    location_id: uuid.UUID | None
    reference: str | None
    reward_id: uuid.UUID | None
    amount: str | None
    currency: str | None
    reason: str | None
    staff_id: uuid.UUID | None
    created_at: datetime
    approved_by: uuid.UUID | None = None  # the manager who allowed an earn over the maximum


_POST = text(
    """
    SELECT outcome, transaction_id, balance, lifetime, reserved, sequence, available, created_at,
           request::text AS request
      FROM ledger_post(:tenant, :mode, :txn, :member, :kind, :points, :system, :key,
                       CAST(:request AS jsonb), :lots, :lot_id, :lot_expires, :allow_negative,
                       :lifetime, :release, :reverses, :program_version, :location, :reference,
                       :reward, :amount, :currency, :reason, :staff)
    """
)


async def post(session: AsyncSession, **params: Any) -> PostResult:
    params["request"] = msgspec.json.encode(params["request"]).decode()
    row = (await session.execute(_POST, params)).one()._mapping
    data = dict(row)
    data["request"] = msgspec.json.decode(data["request"]) if data["request"] else None
    return msgspec.convert(data, PostResult)


_TXN_COLUMNS = """
    t.id, t.member_id, t.kind, t.points, t.balance_after, t.request::text AS request, t.reverses,
    (SELECT r.id FROM transactions r WHERE r.reverses = t.id) AS reversed_by, t.program_version,
    t.location_id, t.reference, t.reward_id, t.amount, t.currency, t.reason, t.staff_id, t.created_at,
    (SELECT a.approved_by FROM transaction_approvals a WHERE a.transaction_id = t.id) AS approved_by
"""


def _txn(mapping: Any) -> TransactionRow:
    data = dict(mapping)
    data["request"] = msgspec.json.decode(data["request"])
    return msgspec.convert(data, TransactionRow)


async def get_transaction(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, txn_id: uuid.UUID
) -> TransactionRow | None:
    row = (
        await session.execute(
            text(
                f"SELECT {_TXN_COLUMNS} FROM transactions t "
                "WHERE t.id = :id AND t.tenant_id = :tenant AND t.mode = :mode"
            ),
            {"id": txn_id, "tenant": tenant_id, "mode": mode},
        )
    ).first()
    return None if row is None else _txn(row._mapping)


async def member_transactions(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    member_id: uuid.UUID,
    *,
    before: uuid.UUID | None,
    limit: int,
) -> list[TransactionRow]:
    # Ids are UUIDv7, so id order is time order: newest first, keyset paginated.
    sql = (
        f"SELECT {_TXN_COLUMNS} FROM transactions t "
        "WHERE t.tenant_id = :tenant AND t.mode = :mode AND t.member_id = :member"
        + (" AND t.id < :before" if before else "")
        + " ORDER BY t.id DESC LIMIT :limit"
    )
    params: dict[str, Any] = {"tenant": tenant_id, "mode": mode, "member": member_id, "limit": limit}
    if before:
        params["before"] = before
    return [_txn(r._mapping) for r in await session.execute(text(sql), params)]


def _period_starts() -> dict[str, datetime]:
    now = datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}


async def reward_taken(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, reward_id: uuid.UUID
) -> tuple[int, int, int]:
    """Redemptions (not reversed) and pending reservations of a reward this UTC day, ISO week, month."""
    row = (
        await session.execute(
            text(
                """
                WITH taken AS (
                  SELECT t.created_at AS at FROM transactions t
                   WHERE t.tenant_id = :tenant AND t.mode = :mode AND t.member_id = :member
                     AND t.reward_id = :reward AND t.kind = 'redeem'
                     AND NOT EXISTS (SELECT 1 FROM transactions r WHERE r.reverses = t.id)
                  UNION ALL
                  SELECT r.created_at FROM reservations r
                   WHERE r.tenant_id = :tenant AND r.mode = :mode AND r.member_id = :member
                     AND r.reward_id = :reward AND r.status = 'pending'
                )
                SELECT count(*) FILTER (WHERE at >= :day),
                       count(*) FILTER (WHERE at >= :week),
                       count(*) FILTER (WHERE at >= :month)
                  FROM taken
                """
            ),
            {"tenant": tenant_id, "mode": mode, "member": member_id, "reward": reward_id, **_period_starts()},
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def key_used(session: AsyncSession, tenant_id: uuid.UUID, mode: str, key: str) -> bool:
    row = await session.execute(
        text(
            "SELECT 1 FROM transactions WHERE tenant_id = :tenant AND mode = :mode AND idempotency_key = :key"
        ),
        {"tenant": tenant_id, "mode": mode, "key": key},
    )
    return row.first() is not None


async def record_approval(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    txn_id: uuid.UUID,
    *,
    approved_by: uuid.UUID,
    maximum: int,
) -> None:
    await session.execute(
        text(
            "INSERT INTO transaction_approvals (transaction_id, tenant_id, mode, approved_by, maximum) "
            "VALUES (:txn, :tenant, :mode, :approver, :maximum)"
        ),
        {"txn": txn_id, "tenant": tenant_id, "mode": mode, "approver": approved_by, "maximum": maximum},
    )
