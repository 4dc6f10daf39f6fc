"""Earn, redeem and reverse: the domain decides what to post, ledger_post applies it atomically."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec
from nujoomy_contracts import Envelope
from nujoomy_contracts import ledger as contract
from nujoomy_contracts.tenant import Program, Reward
from nujoomy_kit.problems import InvalidInput
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.db import ledger, members
from nujoomy_ledger.db.programs import subject
from nujoomy_ledger.domain.earning import (
    check_currency,
    check_points,
    parse_amount,
    points_for_amount,
    transaction_maximum,
)
from nujoomy_ledger.domain.errors import (
    AlreadyReversed,
    ManagerApprovalRequired,
    MemberErased,
    MemberNotFound,
    ProgramUnavailable,
    RewardNotFound,
    TransactionNotFound,
)
from nujoomy_ledger.domain.expiry import expires_at
from nujoomy_ledger.domain.reversal import Original, Plan, reversal_plan
from nujoomy_ledger.domain.rewards import Taken, check_reward
from nujoomy_ledger.events.publishing import envelope
from nujoomy_ledger.operations.posting import Posted, post
from nujoomy_ledger.operations.scope import Scope


class Who:
    """A member named by id (partner API) or by the card the staff scanned."""

    def __init__(self, member_id: uuid.UUID | None = None, card_token: str | None = None) -> None:
        self.member_id = member_id
        self.card_token = card_token


async def _load(session: AsyncSession, scope: Scope, who: Who) -> tuple[Program, uuid.UUID]:
    found = await subject(
        session, scope.tenant_id, scope.mode, member_id=who.member_id, card_token=who.card_token
    )
    if found.member_id is None:
        raise MemberNotFound("No such member or card")
    if found.member_status == "erased":
        raise MemberErased("This member has been erased")
    if found.program is None:
        raise ProgramUnavailable("The ledger has not received this tenant's program yet")
    return found.program, found.member_id


def find_reward(program: Program, reward_id: uuid.UUID) -> Reward:
    for reward in program.rewards:
        if reward.reward_id == reward_id:
            return reward
    raise RewardNotFound("No such reward in this program")


async def earn(
    session: AsyncSession,
    scope: Scope,
    who: Who,
    *,
    key: str,
    points: int | None = None,
    amount: str | None = None,
    currency: str | None = None,
    reference: str | None = None,
    location_id: uuid.UUID | None = None,
    approved_by: uuid.UUID | None = None,
    now: datetime,
) -> Posted:
    """`approved_by`: a manager of this business who allowed it (verified by the caller)."""
    if (points is None) == (amount is None):
        raise InvalidInput("Give either points or an amount", field="points")
    program, member_id = await _load(session, scope, who)
    if amount is not None:
        value = parse_amount(amount)
        check_currency(currency or "", program.currency)
        earned = points_for_amount(
            value,
            program_type=program.type,
            points_per_unit=program.earn_rule.points_per_unit,
            minimum_spend=program.earn_rule.minimum_spend,
        )
    else:
        earned = check_points(points or 0)
    maximum = transaction_maximum(program.type, program.earn_rule.max_per_transaction)
    # Managers, owners and the platform (partner API, role None) are trusted with any earn; a staff
    # member's large earn is the counter's fraud and typo risk, so it needs a manager beside them.
    needs_approval = earned > maximum and scope.role == "staff"
    if needs_approval and approved_by is None:
        raise ManagerApprovalRequired(
            f"A staff member may grant at most {maximum} in one earn; a manager must approve {earned}",
            maximum=maximum,
            points=earned,
        )
    request = {
        "kind": "earn",
        "member_id": str(member_id),
        "points": points,
        "amount": amount,
        "currency": currency,
        "reference": reference,
        "location_id": str(location_id) if location_id else None,
    }
    posted = await post(
        session,
        scope,
        member_id=member_id,
        kind="earn",
        plan=Plan(points=earned, system="issuance", lots="new", allow_negative=False, lifetime=earned),
        key=key,
        request=request,
        program_version=program.version,
        location_id=location_id,
        reference=reference,
        amount=amount,
        currency=currency,
        lot_expires=expires_at(program.expiry.kind, program.expiry.months, now, program.tenant.timezone),
    )
    if needs_approval and approved_by is not None and not posted.replayed:
        txn = posted.transaction
        await ledger.record_approval(
            session, scope.tenant_id, scope.mode, txn.id, approved_by=approved_by, maximum=maximum
        )
        posted.transaction = msgspec.structs.replace(txn, approved_by=approved_by)
    return posted


async def redeem(
    session: AsyncSession,
    scope: Scope,
    who: Who,
    *,
    key: str,
    points: int | None = None,
    reward_id: uuid.UUID | None = None,
    reference: str | None = None,
    now: datetime,
) -> Posted:
    if (points is None) == (reward_id is None):
        raise InvalidInput("Give either points or a reward_id", field="points")
    program, member_id = await _load(session, scope, who)
    request = {
        "kind": "redeem",
        "member_id": str(member_id),
        "points": points,
        "reward_id": str(reward_id) if reward_id else None,
        "reference": reference,
    }
    reward = None
    if reward_id is not None:
        reward = find_reward(program, reward_id)
        cost = reward.cost
        # A replay answers with the original even if the limit is reached now (by that original).
        if not await ledger.key_used(session, scope.tenant_id, scope.mode, key):
            # The member's lock makes the limit count and the post one step for concurrent scans.
            await members.get(session, scope.tenant_id, scope.mode, member_id, lock=True)
            taken = await ledger.reward_taken(session, scope.tenant_id, scope.mode, member_id, reward_id)
            check_reward(reward, now, Taken(day=taken[0], week=taken[1], month=taken[2]))
    else:
        cost = check_points(points or 0)

    def reward_event(txn_id: uuid.UUID) -> list[Envelope[Any]]:
        if reward is None:
            return []
        redeemed = contract.RewardRedeemed(
            reservation_id=None,
            member_id=member_id,
            reward_id=reward.reward_id,
            reward_name=reward.name,
            points=cost,
            transaction_id=txn_id,
        )
        return [envelope(scope, contract.REWARD_REDEEMED, redeemed)]

    return await post(
        session,
        scope,
        member_id=member_id,
        kind="redeem",
        plan=Plan(points=-cost, system="redemption", lots="consume", allow_negative=False, lifetime=0),
        key=key,
        request=request,
        program_version=program.version,
        reference=reference,
        reward_id=reward_id,
        extra_events=reward_event,
    )


async def reverse(
    session: AsyncSession,
    scope: Scope,
    txn_id: uuid.UUID,
    *,
    key: str,
    reason: str | None,
    now: datetime,
    window: timedelta,
) -> Posted:
    original = await ledger.get_transaction(session, scope.tenant_id, scope.mode, txn_id)
    if original is None:
        raise TransactionNotFound("No such transaction")
    request = {"kind": "reverse", "transaction_id": str(txn_id), "reason": reason}
    if await ledger.key_used(session, scope.tenant_id, scope.mode, key):
        plan = Plan(
            points=0, system="adjustment", lots="none", allow_negative=False, lifetime=0
        )  # replay only
    else:
        if original.reversed_by is not None:
            raise AlreadyReversed(
                "This transaction has already been reversed", reversed_by=str(original.reversed_by)
            )
        plan = reversal_plan(
            Original(kind=original.kind, points=original.points, created_at=original.created_at),
            now=now,
            window=window,
            may_reverse_any_age=scope.may_reverse_any_age,
        )
    try:
        return await post(
            session,
            scope,
            member_id=original.member_id,
            kind="reverse",
            plan=plan,
            key=key,
            request=request,
            reverses=original.id,
            reward_id=original.reward_id,
            reference=original.reference,
            reason=reason,
        )
    except IntegrityError as exc:
        if "transactions_reversed_once" in str(exc.orig):
            raise AlreadyReversed("This transaction has already been reversed") from None
        raise


async def adjust(
    session: AsyncSession,
    scope: Scope,
    who: Who,
    *,
    key: str,
    points: int,
    reason: str,
    now: datetime,
) -> Posted:
    """A manual correction by a manager: a credit is a new lot (stamped with the program's expiry),
    a debit draws lots like a spend and, like a spend, cannot take the balance below zero."""
    if points == 0:
        raise InvalidInput("An adjustment moves at least one point", field="points")
    check_points(abs(points))
    program, member_id = await _load(session, scope, who)
    request = {"kind": "adjust", "member_id": str(member_id), "points": points, "reason": reason}
    credit = points > 0
    return await post(
        session,
        scope,
        member_id=member_id,
        kind="adjust",
        plan=Plan(
            points=points,
            system="adjustment",
            lots="new" if credit else "consume",
            allow_negative=False,
            lifetime=points if credit else 0,
        ),
        key=key,
        request=request,
        program_version=program.version,
        reason=reason,
        lot_expires=expires_at(program.expiry.kind, program.expiry.months, now, program.tenant.timezone)
        if credit
        else None,
    )
