"""Posting one ledger transaction: ledger_post, then its events into the outbox, same transaction.

A replay (same idempotency key) writes nothing and emits nothing: it compares the request with the
original's fingerprint and answers with the original transaction, or raises idempotency_conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from nujoomy_contracts import Envelope
from nujoomy_contracts import ledger as contract
from nujoomy_kit.ids import uuid7
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.db import ledger
from nujoomy_ledger.db.ledger import TransactionRow
from nujoomy_ledger.domain.errors import InsufficientPoints, MemberNotFound
from nujoomy_ledger.domain.idempotency import check_replay
from nujoomy_ledger.domain.reversal import Plan
from nujoomy_ledger.events.publishing import balance_changed, envelope, publish
from nujoomy_ledger.operations.scope import Scope


class Balance(msgspec.Struct, kw_only=True):
    balance: int
    lifetime_points: int
    reserved: int
    available: int


class Posted(msgspec.Struct, kw_only=True):
    transaction: TransactionRow
    balance: Balance
    replayed: bool = False


ExtraEvents = Callable[[uuid.UUID], Sequence[Envelope[Any]]]


async def post(
    session: AsyncSession,
    scope: Scope,
    *,
    member_id: uuid.UUID,
    kind: contract.TransactionKind,
    plan: Plan,
    key: str,
    request: dict[str, Any],
    reverses: uuid.UUID | None = None,
    program_version: int | None = None,
    location_id: uuid.UUID | None = None,
    reference: str | None = None,
    reward_id: uuid.UUID | None = None,
    amount: str | None = None,
    currency: str | None = None,
    reason: str | None = None,
    release: int = 0,
    lot_id: uuid.UUID | None = None,
    lot_expires: datetime | None = None,
    extra_events: ExtraEvents | None = None,
) -> Posted:
    txn_id = uuid7()
    result = await ledger.post(
        session,
        tenant=scope.tenant_id,
        mode=scope.mode,
        txn=txn_id,
        member=member_id,
        kind=kind,
        points=plan.points,
        system=plan.system,
        key=key,
        request=request,
        lots=plan.lots,
        lot_id=lot_id,
        lot_expires=lot_expires,
        allow_negative=plan.allow_negative,
        lifetime=plan.lifetime,
        release=release,
        reverses=reverses,
        program_version=program_version,
        location=location_id,
        reference=reference,
        reward=reward_id,
        amount=amount,
        currency=currency,
        reason=reason,
        staff=scope.staff_id,
    )
    balance = Balance(
        balance=result.balance,
        lifetime_points=result.lifetime,
        reserved=result.reserved,
        available=result.available,
    )
    if result.outcome == "no_member":
        raise MemberNotFound("No such member")
    if result.outcome == "insufficient":
        shortfall = -plan.points - result.available
        raise InsufficientPoints(
            f"The member has {result.available} points available; {shortfall} more are needed",
            shortfall=shortfall,
            available=result.available,
        )
    assert result.transaction_id is not None
    assert result.created_at is not None
    if result.outcome == "replay":
        check_replay(result.request or {}, request)
        original = await ledger.get_transaction(session, scope.tenant_id, scope.mode, result.transaction_id)
        assert original is not None
        return Posted(transaction=original, balance=balance, replayed=True)

    row = TransactionRow(
        id=txn_id,
        member_id=member_id,
        kind=kind,
        points=plan.points,
        balance_after=result.balance,
        request=request,
        reverses=reverses,
        program_version=program_version,
        location_id=location_id,
        reference=reference,
        reward_id=reward_id,
        amount=amount,
        currency=currency,
        reason=reason,
        staff_id=scope.staff_id,
        created_at=result.created_at,
    )
    events: list[Envelope[Any]] = [
        envelope(
            scope,
            contract.TRANSACTION_POSTED,
            contract.TransactionPosted(
                transaction_id=txn_id,
                member_id=member_id,
                kind=kind,
                points=plan.points,
                balance_after=result.balance,
                reference=reference,
                reward_id=reward_id,
                reverses=reverses,
                program_version=program_version,
                location_id=location_id,
                amount=amount,
                currency=currency,
                reason=reason,
                posted_at=result.created_at,
            ),
        ),
        balance_changed(
            scope,
            member_id,
            balance=result.balance,
            lifetime=result.lifetime,
            reserved=result.reserved,
            sequence=result.sequence,
        ),
    ]
    if extra_events is not None:
        events.extend(extra_events(txn_id))
    await publish(session, member_id, *events)
    return Posted(transaction=row, balance=balance)
