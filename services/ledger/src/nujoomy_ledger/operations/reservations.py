"""Rewards as reservations: issuing reserves points (pending), redeeming posts them (terminal),
cancelling or timing out voids the reservation and frees the points."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec
from nujoomy_contracts import Envelope
from nujoomy_contracts import ledger as contract
from nujoomy_kit.ids import uuid7
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.db import ledger, members
from nujoomy_ledger.domain.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    MemberNotFound,
    ReservationClosed,
    ReservationNotFound,
)
from nujoomy_ledger.domain.reversal import Plan
from nujoomy_ledger.domain.rewards import Taken, check_reward
from nujoomy_ledger.events.publishing import balance_changed, envelope, publish
from nujoomy_ledger.operations.points import Who, _load, find_reward
from nujoomy_ledger.operations.posting import Balance, Posted, post
from nujoomy_ledger.operations.scope import Scope


class Reservation(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    member_id: uuid.UUID
    reward_id: uuid.UUID
    reward_name: str
    points: int
    status: str
    expires_at: datetime
    created_at: datetime
    transaction_id: uuid.UUID | None


_COLUMNS = "id, member_id, reward_id, reward_name, points, status, expires_at, created_at, transaction_id"


async def _get(
    session: AsyncSession,
    scope: Scope,
    *,
    rsv_id: uuid.UUID | None = None,
    key: str | None = None,
    lock: bool = False,
) -> Reservation | None:
    where = "id = :id" if rsv_id is not None else "idempotency_key = :key"
    sql = f"SELECT {_COLUMNS} FROM reservations WHERE {where} AND tenant_id = :tenant AND mode = :mode"
    if lock:
        sql += " FOR UPDATE"
    params = {"id": rsv_id, "key": key, "tenant": scope.tenant_id, "mode": scope.mode}
    row = (await session.execute(text(sql), params)).first()
    return None if row is None else msgspec.convert(dict(row._mapping), Reservation)


async def _change_reserved(session: AsyncSession, scope: Scope, member_id: uuid.UUID, delta: int) -> Balance:
    row = (
        await session.execute(
            text(
                "UPDATE balances SET reserved = reserved + :delta, sequence = sequence + 1, "
                "updated_at = now() "
                "WHERE account_id = :member RETURNING balance, lifetime, reserved, sequence"
            ),
            {"delta": delta, "member": member_id},
        )
    ).one()
    await publish(
        session,
        member_id,
        balance_changed(
            scope,
            member_id,
            balance=row.balance,
            lifetime=row.lifetime,
            reserved=row.reserved,
            sequence=row.sequence,
        ),
    )
    return Balance(
        balance=row.balance,
        lifetime_points=row.lifetime,
        reserved=row.reserved,
        available=row.balance - row.reserved,
    )


async def issue(
    session: AsyncSession,
    scope: Scope,
    who: Who,
    *,
    reward_id: uuid.UUID,
    key: str,
    now: datetime,
    ttl: timedelta,
) -> tuple[Reservation, Balance]:
    program, member_id = await _load(session, scope, who)
    reward = find_reward(program, reward_id)
    member = await members.get(session, scope.tenant_id, scope.mode, member_id, lock=True)
    if member is None:
        raise MemberNotFound("No such member")
    existing = await _get(session, scope, key=key)
    if existing is not None:  # checked under the member's lock, so a concurrent twin sees it
        if existing.member_id != member_id or existing.reward_id != reward_id:
            field = "member_id" if existing.member_id != member_id else "reward_id"
            raise IdempotencyConflict(f"This idempotency key was used with a different {field}", field=field)
        available = member.balance - member.reserved
        return existing, Balance(
            balance=member.balance,
            lifetime_points=member.lifetime,
            reserved=member.reserved,
            available=available,
        )
    taken = await ledger.reward_taken(session, scope.tenant_id, scope.mode, member_id, reward_id)
    check_reward(reward, now, Taken(day=taken[0], week=taken[1], month=taken[2]))
    available = member.balance - member.reserved
    if available < reward.cost:
        raise InsufficientPoints(
            f"The member has {available} points available; {reward.cost - available} more are needed",
            shortfall=reward.cost - available,
            available=available,
        )
    reservation = Reservation(
        id=uuid7(),
        member_id=member_id,
        reward_id=reward_id,
        reward_name=reward.name,
        points=reward.cost,
        status="pending",
        expires_at=now + ttl,
        created_at=now,
        transaction_id=None,
    )
    await session.execute(
        text(
            "INSERT INTO reservations (id, tenant_id, mode, member_id, reward_id, reward_name, points, "
            "idempotency_key, expires_at, created_at) VALUES (:id, :tenant, :mode, :member, :reward, :name, "
            ":points, :key, :expires, :created)"
        ),
        {
            "id": reservation.id,
            "tenant": scope.tenant_id,
            "mode": scope.mode,
            "member": member_id,
            "reward": reward_id,
            "name": reward.name,
            "points": reward.cost,
            "key": key,
            "expires": reservation.expires_at,
            "created": now,
        },
    )
    balance = await _change_reserved(session, scope, member_id, reward.cost)
    issued = contract.RewardIssued(
        reservation_id=reservation.id,
        member_id=member_id,
        reward_id=reward_id,
        points=reward.cost,
        expires_at=reservation.expires_at,
    )
    await publish(session, member_id, envelope(scope, contract.REWARD_ISSUED, issued))
    return reservation, balance


async def redeem(session: AsyncSession, scope: Scope, rsv_id: uuid.UUID) -> Posted:
    """Post a pending reservation. The reservation id is the idempotency key: redeeming twice
    answers with the same transaction."""
    reservation = await _get(session, scope, rsv_id=rsv_id, lock=True)
    if reservation is None:
        raise ReservationNotFound("No such reservation")
    if reservation.status == "voided":
        raise ReservationClosed("This reservation was voided", status=reservation.status)
    key = f"reservation:{reservation.id}"
    request = {"kind": "redeem", "reservation_id": str(reservation.id)}

    def redeemed(txn_id: uuid.UUID) -> list[Envelope[Any]]:
        data = contract.RewardRedeemed(
            reservation_id=reservation.id,
            member_id=reservation.member_id,
            reward_id=reservation.reward_id,
            reward_name=reservation.reward_name,
            points=reservation.points,
            transaction_id=txn_id,
        )
        return [envelope(scope, contract.REWARD_REDEEMED, data)]

    posted = await post(
        session,
        scope,
        member_id=reservation.member_id,
        kind="redeem",
        plan=Plan(
            points=-reservation.points, system="redemption", lots="consume", allow_negative=False, lifetime=0
        ),
        key=key,
        request=request,
        reward_id=reservation.reward_id,
        release=reservation.points,
        extra_events=redeemed,
    )
    if not posted.replayed:
        await session.execute(
            text(
                "UPDATE reservations SET status = 'redeemed', resolved_at = now(), transaction_id = :txn "
                "WHERE id = :id"
            ),
            {"txn": posted.transaction.id, "id": reservation.id},
        )
    return posted


async def void(
    session: AsyncSession, scope: Scope, rsv_id: uuid.UUID, reason: Literal["cancelled", "timed_out"]
) -> tuple[Reservation, Balance | None]:
    reservation = await _get(session, scope, rsv_id=rsv_id, lock=True)
    if reservation is None:
        raise ReservationNotFound("No such reservation")
    if reservation.status == "redeemed":
        raise ReservationClosed("This reservation was redeemed", status=reservation.status)
    if reservation.status == "voided":
        return reservation, None  # voiding twice changes nothing
    await session.execute(
        text("UPDATE reservations SET status = 'voided', resolved_at = now() WHERE id = :id"),
        {"id": reservation.id},
    )
    balance = await _change_reserved(session, scope, reservation.member_id, -reservation.points)
    voided = contract.RewardVoided(
        reservation_id=reservation.id,
        member_id=reservation.member_id,
        reward_id=reservation.reward_id,
        points=reservation.points,
        reason=reason,
    )
    await publish(session, reservation.member_id, envelope(scope, contract.REWARD_VOIDED, voided))
    reservation.status = "voided"
    return reservation, balance
