"""Scheduled ledger work: the expiry run, reservation timeouts and points-expiring notices.

Each is safe to run twice and on several workers at once: reservations and notices are claimed with
FOR UPDATE SKIP LOCKED and settled in the transaction that publishes for them; a lot is expired under
its member's lock, re-checked once the lock is held, and carries the idempotency key `expire:<lot>`,
so it can never be expired twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from nujoomy_contracts import ledger as contract
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_ledger.db import members
from nujoomy_ledger.domain.reversal import Plan
from nujoomy_ledger.events.publishing import envelope, publish
from nujoomy_ledger.operations import reservations
from nujoomy_ledger.operations.posting import post
from nujoomy_ledger.operations.scope import Scope

# Lock order is the same as every posting's: the member's balances row first, then the lot. Taking
# the lot first would deadlock against a concurrent spend drawing from that lot.
_DUE_LOT = text(
    """
    SELECT id, tenant_id, mode, member_id FROM earn_lots
     WHERE expires_at <= :now AND remaining > 0 AND expired_at IS NULL
     ORDER BY expires_at LIMIT 1
    """
)
_LOCK_LOT = text(
    "SELECT remaining FROM earn_lots WHERE id = :id AND remaining > 0 AND expired_at IS NULL FOR UPDATE"
)


async def expire_one(session: AsyncSession, now: datetime) -> bool:
    """Expire one due lot; False when none is left. Another worker may settle it first: fine."""
    lot = (await session.execute(_DUE_LOT, {"now": now})).first()
    if lot is None:
        return False
    scope = Scope(tenant_id=lot.tenant_id, mode=lot.mode)
    member = await members.get(session, lot.tenant_id, lot.mode, lot.member_id, lock=True)
    assert member is not None
    remaining = (await session.execute(_LOCK_LOT, {"id": lot.id})).scalar_one_or_none()
    if remaining is None:
        return True  # spent or expired while we waited for the member's lock
    # Only the unspent remainder expires, and never points a pending reservation holds or that a
    # refund already took back (a negative balance has nothing left to expire).
    points = max(0, min(remaining, member.balance - member.reserved))
    if points == 0:
        await session.execute(
            text("UPDATE earn_lots SET remaining = 0, expired_at = :now WHERE id = :id"),
            {"id": lot.id, "now": now},
        )
        return True
    await post(
        session,
        scope,
        member_id=lot.member_id,
        kind="expire",
        plan=Plan(points=-points, system="expiry", lots="expire", allow_negative=False, lifetime=0),
        key=f"expire:{lot.id}",
        request={"kind": "expire", "lot_id": str(lot.id)},
        lot_id=lot.id,
        reason="expired",
    )
    return True


async def run_expiry(sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int = 1000) -> int:
    """One transaction per lot: a failure leaves the rest of the run intact."""
    done = 0
    while done < limit:
        async with sessions() as session, session.begin():
            if not await expire_one(session, now):
                break
        done += 1
    return done


async def time_out_reservations(
    sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int = 1000
) -> int:
    done = 0
    while done < limit:
        async with sessions() as session, session.begin():
            row = (
                await session.execute(
                    text(
                        "SELECT id, tenant_id, mode FROM reservations "
                        "WHERE status = 'pending' AND expires_at <= :now "
                        "ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED"
                    ),
                    {"now": now},
                )
            ).first()
            if row is None:
                break
            await reservations.void(
                session, Scope(tenant_id=row.tenant_id, mode=row.mode), row.id, "timed_out"
            )
        done += 1
    return done


async def notify_expiring(
    sessions: async_sessionmaker[AsyncSession], now: datetime, days_before: int, limit: int = 1000
) -> int:
    """One ledger.points.expiring per lot, once: notified_at is set in the same transaction."""
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                text(
                    """
                    UPDATE earn_lots SET notified_at = :now
                     WHERE id IN (SELECT id FROM earn_lots
                                   WHERE remaining > 0 AND expired_at IS NULL AND notified_at IS NULL
                                     AND expires_at > :now AND expires_at <= :horizon
                                   ORDER BY expires_at LIMIT :limit FOR UPDATE SKIP LOCKED)
                    RETURNING tenant_id, mode, member_id, remaining, expires_at
                    """
                ),
                {"now": now, "horizon": now + timedelta(days=days_before), "limit": limit},
            )
        ).all()
        for row in rows:
            scope = Scope(tenant_id=row.tenant_id, mode=row.mode)
            expiring = contract.PointsExpiring(
                member_id=row.member_id, points=row.remaining, expires_at=row.expires_at
            )
            await publish(session, row.member_id, envelope(scope, contract.POINTS_EXPIRING, expiring))
    return len(rows)
