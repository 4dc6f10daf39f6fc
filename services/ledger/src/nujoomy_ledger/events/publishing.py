"""What the ledger publishes, written to the outbox inside the caller's transaction.

The aggregate is the member (`member:<uuid>`), so a member's events keep their order through the
relay; balance.changed also carries a per-account sequence for consumers that see them reordered.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from nujoomy_contracts import Envelope, new_envelope
from nujoomy_contracts import ledger as contract
from nujoomy_messaging import add_events
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.db.members import MemberRow
from nujoomy_ledger.operations.scope import Scope


def aggregate(member_id: uuid.UUID) -> str:
    return f"member:{member_id}"


def member_payload(member: MemberRow) -> contract.Member:
    return contract.Member(
        member_id=member.id,
        program_id=member.program_id,
        name=member.name,
        email=member.email,
        phone=member.phone,
        external_id=member.external_id,
        locale=member.locale,
        consent_email=member.consent_email,
        consent_sms=member.consent_sms,
        status="erased" if member.status == "erased" else "active",
    )


def balance_changed(
    scope: Scope, member_id: uuid.UUID, *, balance: int, lifetime: int, reserved: int, sequence: int
) -> Envelope[contract.BalanceChanged]:
    return new_envelope(
        contract.BALANCE_CHANGED,
        contract.BalanceChanged(
            member_id=member_id,
            account_id=member_id,  # a member's account shares the member's id
            balance=balance,
            lifetime_points=lifetime,
            reserved=reserved,
            sequence=sequence,
            changed_at=datetime.now(UTC),
        ),
        tenant_id=scope.tenant_id,
        mode=scope.mode,
    )


def envelope(scope: Scope, type_: str, data: Any) -> Envelope[Any]:
    return new_envelope(type_, data, tenant_id=scope.tenant_id, mode=scope.mode)


async def publish(session: AsyncSession, member_id: uuid.UUID, *envelopes: Envelope[Any]) -> None:
    await add_events(session, [(e, aggregate(member_id)) for e in envelopes])
