"""Enrolment, contact changes, card reissue and GDPR (export and erasure)."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from nujoomy_contracts import ledger as contract
from nujoomy_kit.ids import encode_id, uuid7
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.db import ledger, members
from nujoomy_ledger.db.members import MemberRow
from nujoomy_ledger.db.programs import get_program
from nujoomy_ledger.domain.cards import new_card_token
from nujoomy_ledger.domain.contacts import default_region, normal_email, normal_phone
from nujoomy_ledger.domain.errors import (
    InvalidEmail,
    InvalidPhone,
    MemberErased,
    MemberExists,
    MemberNotFound,
)
from nujoomy_ledger.events.publishing import envelope, member_payload, publish
from nujoomy_ledger.operations.scope import Scope


async def get(session: AsyncSession, scope: Scope, member_id: uuid.UUID, *, lock: bool = False) -> MemberRow:
    member = await members.get(session, scope.tenant_id, scope.mode, member_id, lock=lock)
    if member is None:
        raise MemberNotFound("No such member")
    return member


_ENROL_DEFAULTS: dict[str, Any] = {
    "name": None,
    "email": None,
    "phone": None,
    "external_id": None,
    "locale": None,
    "consent_email": False,
    "consent_sms": False,
}


async def _canonical(session: AsyncSession, scope: Scope, fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with e-mail and phone in the form they are stored and compared in (domain/contacts)."""
    out = dict(fields)
    if "email" in out:
        out["email"] = normal_email(out["email"])
    if out.get("phone") is not None:
        program = await get_program(session, scope.tenant_id, scope.mode)
        tenant = program.tenant if program else None
        region = default_region(tenant.country, tenant.locale, tenant.contact_phone) if tenant else None
        out["phone"] = normal_phone(out["phone"], region)
    return out


async def search_form(
    session: AsyncSession, scope: Scope, *, email: str | None, phone: str | None
) -> tuple[str | None, str | None]:
    """A search's e-mail and phone in the stored form; a value that is not one is searched as given
    (it matches nothing, which is the right answer)."""
    with contextlib.suppress(InvalidEmail):
        email = normal_email(email)
    try:
        fields = await _canonical(session, scope, {"phone": phone})
        phone = fields["phone"]
    except InvalidPhone:
        pass
    return email, phone


async def _refuse_taken(
    session: AsyncSession, scope: Scope, fields: dict[str, Any], *, exclude: uuid.UUID | None = None
) -> None:
    found = await members.by_contact(
        session, scope.tenant_id, scope.mode, email=fields.get("email"), phone=fields.get("phone")
    )
    if found is not None and found != exclude:
        raise MemberExists("A member with this e-mail or phone exists", member_id=encode_id("mbr", found))


async def enrol(session: AsyncSession, scope: Scope, fields: dict[str, Any]) -> MemberRow:
    """A new member and card; an e-mail or phone already on a member of this tenant and mode is that
    member's (MemberExists names it), never a second balance."""
    fields = await _canonical(session, scope, {**_ENROL_DEFAULTS, **fields})
    await _refuse_taken(session, scope, fields)
    program = await get_program(session, scope.tenant_id, scope.mode)
    member_id = uuid7()
    token = new_card_token()
    try:
        await members.enrol(
            session,
            scope.tenant_id,
            scope.mode,
            id=member_id,
            program=program.program_id if program else None,
            token=token,
            **fields,
        )
    except MemberExists:
        await _refuse_taken(session, scope, fields)  # a concurrent enrolment won: name its member
        raise
    member = await get(session, scope, member_id)
    enrolled = contract.MemberEnrolled(member=member_payload(member), card_token=token)
    await publish(session, member_id, envelope(scope, contract.MEMBER_ENROLLED, enrolled))
    return member


async def update(
    session: AsyncSession, scope: Scope, member_id: uuid.UUID, changes: dict[str, Any]
) -> MemberRow:
    member = await get(session, scope, member_id, lock=True)
    if member.status == "erased":
        raise MemberErased("This member has been erased")
    changes = await _canonical(session, scope, changes)
    await _refuse_taken(
        session,
        scope,
        {k: changes[k] for k in ("email", "phone") if k in changes},
        exclude=member_id,
    )
    try:
        await members.update(session, scope.tenant_id, scope.mode, member_id, changes)
    except MemberExists:
        await _refuse_taken(session, scope, changes, exclude=member_id)
        raise
    member = await get(session, scope, member_id)
    if changes:
        updated = contract.MemberUpdated(member=member_payload(member))
        await publish(session, member_id, envelope(scope, contract.MEMBER_UPDATED, updated))
    return member


async def reissue_card(session: AsyncSession, scope: Scope, member_id: uuid.UUID) -> MemberRow:
    member = await get(session, scope, member_id, lock=True)
    if member.status == "erased":
        raise MemberErased("This member has been erased")
    token = new_card_token()
    await members.reissue_card(session, scope.tenant_id, scope.mode, member_id, token)
    reissued = contract.CardReissued(member_id=member_id, card_token=token)
    await publish(session, member_id, envelope(scope, contract.CARD_REISSUED, reissued))
    return await get(session, scope, member_id)


async def resend_card(session: AsyncSession, scope: Scope, member_id: uuid.UUID) -> MemberRow:
    """The welcome message again, to the member's own e-mail or phone (ledger.card.resent)."""
    member = await get(session, scope, member_id)
    if member.status == "erased":
        raise MemberErased("This member has been erased")
    resent = contract.CardResent(member=member_payload(member))
    await publish(session, member_id, envelope(scope, contract.CARD_RESENT, resent))
    return member


async def erase(session: AsyncSession, scope: Scope, member_id: uuid.UUID) -> MemberRow:
    """Personal fields wiped, the card revoked; the ledger (amounts, dates) stays, anonymised."""
    member = await get(session, scope, member_id, lock=True)
    if member.status != "erased":
        await members.erase(session, scope.tenant_id, scope.mode, member_id)
        erased = contract.MemberErased(member_id=member_id)
        await publish(session, member_id, envelope(scope, contract.MEMBER_ERASED, erased))
    return await get(session, scope, member_id)


async def export(session: AsyncSession, scope: Scope, member_id: uuid.UUID) -> dict[str, Any]:
    """Everything the ledger holds about a member (GDPR art. 15/20), as plain JSON values."""
    member = await get(session, scope, member_id)
    txns = await ledger.member_transactions(
        session, scope.tenant_id, scope.mode, member_id, before=None, limit=100_000
    )
    params = {"member": member_id, "tenant": scope.tenant_id, "mode": scope.mode}
    cards = await session.execute(
        text(
            "SELECT token, status, created_at, revoked_at FROM cards "
            "WHERE member_id = :member AND tenant_id = :tenant AND mode = :mode ORDER BY created_at"
        ),
        params,
    )
    reservations = await session.execute(
        text(
            "SELECT id, reward_id, reward_name, points, status, created_at, resolved_at FROM reservations "
            "WHERE member_id = :member AND tenant_id = :tenant AND mode = :mode ORDER BY created_at"
        ),
        params,
    )
    return {
        "member": member,
        "cards": [dict(r._mapping) for r in cards],
        "transactions": txns,
        "reservations": [dict(r._mapping) for r in reservations],
    }
