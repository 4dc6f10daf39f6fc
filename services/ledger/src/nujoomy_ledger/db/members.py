"""Members, their cards and their account + balance rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.domain.errors import DuplicateExternalId, MemberExists
from nujoomy_ledger.domain.names import like_prefix, name_key


class MemberRow(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    program_id: uuid.UUID | None
    name: str | None
    email: str | None
    phone: str | None
    external_id: str | None
    locale: str | None
    consent_email: bool
    consent_sms: bool
    status: str
    created_at: datetime
    card_token: str | None
    balance: int
    lifetime: int
    reserved: int
    sequence: int


_SELECT = """
    SELECT m.id, m.program_id, m.name, m.email, m.phone, m.external_id, m.locale, m.consent_email,
           m.consent_sms, m.status, m.created_at, c.token AS card_token,
           b.balance, b.lifetime, b.reserved, b.sequence
      FROM members m
      JOIN balances b ON b.account_id = m.id
      LEFT JOIN cards c ON c.member_id = m.id AND c.status = 'active'
"""

_ENROL = text(
    """
    WITH m AS (
      INSERT INTO members (id, tenant_id, mode, program_id, name, name_key, email, phone, external_id,
                           locale, consent_email, consent_sms)
      VALUES (:id, :tenant, :mode, :program, :name, :name_key, :email, :phone, :external_id, :locale,
              :consent_email, :consent_sms)
      RETURNING id
    ), a AS (
      INSERT INTO accounts (id, tenant_id, mode, program_id, kind, member_id)
      SELECT id, :tenant, :mode, :program, 'member', id FROM m RETURNING id
    ), b AS (
      INSERT INTO balances (account_id, tenant_id, mode) SELECT id, :tenant, :mode FROM a RETURNING 1
    )
    INSERT INTO cards (token, tenant_id, mode, member_id) SELECT :token, :tenant, :mode, id FROM m
    """
)


def _duplicate(exc: IntegrityError) -> Exception | None:
    """The domain error for a unique index the write ran into, if it is one of the members' own."""
    text_ = str(exc.orig)
    if "members_external_id" in text_:
        return DuplicateExternalId("A member with this external_id already exists", field="external_id")
    if "members_email" in text_ or "members_phone" in text_:
        # The caller names the member (by_contact); a concurrent enrolment won the race.
        return MemberExists("A member with this e-mail or phone exists")
    return None


def _row(mapping: Any) -> MemberRow:
    return msgspec.convert(dict(mapping), MemberRow)


async def enrol(session: AsyncSession, tenant_id: uuid.UUID, mode: str, **fields: Any) -> None:
    try:
        async with session.begin_nested():
            key = name_key(fields.get("name"))
            await session.execute(_ENROL, {"tenant": tenant_id, "mode": mode, **fields, "name_key": key})
    except IntegrityError as exc:
        if (error := _duplicate(exc)) is not None:
            raise error from None
        raise


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, *, lock: bool = False
) -> MemberRow | None:
    sql = _SELECT + " WHERE m.id = :id AND m.tenant_id = :tenant AND m.mode = :mode"
    if lock:
        sql += " FOR UPDATE OF b"
    row = (await session.execute(text(sql), {"id": member_id, "tenant": tenant_id, "mode": mode})).first()
    return None if row is None else _row(row._mapping)


async def by_contact(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, *, email: str | None, phone: str | None
) -> uuid.UUID | None:
    """The member holding this (canonical) e-mail or phone in this tenant and mode, if any."""
    if email is None and phone is None:
        return None
    row = (
        await session.execute(
            text(
                "SELECT id FROM members WHERE tenant_id = :tenant AND mode = :mode "
                "AND (lower(email) = :email OR phone = :phone) ORDER BY created_at LIMIT 1"
            ),
            {"tenant": tenant_id, "mode": mode, "email": email, "phone": phone},
        )
    ).first()
    return None if row is None else row[0]


async def by_card(session: AsyncSession, tenant_id: uuid.UUID, mode: str, token: str) -> MemberRow | None:
    sql = (
        _SELECT.replace(
            "LEFT JOIN cards c ON c.member_id = m.id AND c.status = 'active'",
            "JOIN cards c ON c.member_id = m.id",
        )
        + " WHERE c.token = :token AND c.status = 'active' AND c.tenant_id = :tenant AND c.mode = :mode"
    )
    row = (await session.execute(text(sql), {"token": token, "tenant": tenant_id, "mode": mode})).first()
    return None if row is None else _row(row._mapping)


class MemberPage(msgspec.Struct, kw_only=True):
    rows: list[MemberRow]
    more_after: bool
    more_before: bool


async def search(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    *,
    external_id: str | None,
    email: str | None,
    phone: str | None,
    name: str | None = None,
    after: uuid.UUID | None,
    before: uuid.UUID | None = None,
    limit: int,
) -> MemberPage:
    """One page in enrolment (id) order, from `after` forwards or from `before` backwards."""
    where = ["m.tenant_id = :tenant", "m.mode = :mode"]
    params: dict[str, Any] = {"tenant": tenant_id, "mode": mode, "limit": limit + 1}
    if external_id is not None:
        where.append("m.external_id = :external_id")
        params["external_id"] = external_id
    if email is not None:
        where.append("lower(m.email) = lower(:email)")
        params["email"] = email
    if phone is not None:
        where.append("m.phone = :phone")
        params["phone"] = phone
    if name is not None and name_key(name):
        # members_name_key (tenant, mode, name_key text_pattern_ops): a range scan, not a table scan
        where.append("m.name_key LIKE :name_prefix ESCAPE '\\'")
        params["name_prefix"] = like_prefix(name)
    backwards = before is not None
    if backwards:
        where.append("m.id < :before")
        params["before"] = before
    elif after is not None:
        where.append("m.id > :after")
        params["after"] = after
    order = "DESC" if backwards else "ASC"
    sql = _SELECT + " WHERE " + " AND ".join(where) + f" ORDER BY m.id {order} LIMIT :limit"
    rows = [_row(r._mapping) for r in (await session.execute(text(sql), params))]
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        return MemberPage(rows=rows, more_after=True, more_before=more)
    return MemberPage(rows=rows, more_after=more, more_before=after is not None)


async def update(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    if not changes:
        return
    if "name" in changes:
        changes = {**changes, "name_key": name_key(changes["name"])}
    sets = ", ".join(f"{name} = :{name}" for name in changes)
    try:
        async with session.begin_nested():
            await session.execute(
                text(
                    f"UPDATE members SET {sets}, updated_at = now() "
                    "WHERE id = :id AND tenant_id = :tenant AND mode = :mode"
                ),
                {**changes, "id": member_id, "tenant": tenant_id, "mode": mode},
            )
    except IntegrityError as exc:
        if (error := _duplicate(exc)) is not None:
            raise error from None
        raise


async def reissue_card(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, token: str
) -> None:
    # Revoke and insert in one transaction: the old token stops answering the moment this commits.
    await session.execute(
        text(
            "UPDATE cards SET status = 'revoked', revoked_at = now() "
            "WHERE member_id = :id AND tenant_id = :tenant AND mode = :mode AND status = 'active'"
        ),
        {"id": member_id, "tenant": tenant_id, "mode": mode},
    )
    await session.execute(
        text("INSERT INTO cards (token, tenant_id, mode, member_id) VALUES (:token, :tenant, :mode, :id)"),
        {"token": token, "id": member_id, "tenant": tenant_id, "mode": mode},
    )


async def erase(session: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID) -> None:
    """Wipe personal fields; the member row stays (anonymised) so the ledger keeps balancing."""
    await session.execute(
        text(
            "UPDATE members SET name = NULL, name_key = NULL, email = NULL, phone = NULL, "
            "external_id = NULL, locale = NULL, consent_email = false, consent_sms = false, "
            "status = 'erased', erased_at = now(), updated_at = now() "
            "WHERE id = :id AND tenant_id = :tenant AND mode = :mode"
        ),
        {"id": member_id, "tenant": tenant_id, "mode": mode},
    )
    await session.execute(
        text(
            "UPDATE cards SET status = 'revoked', revoked_at = now() "
            "WHERE member_id = :id AND status = 'active'"
        ),
        {"id": member_id},
    )
    # A contact set aside when one member per contact was first enforced is personal data too.
    await session.execute(
        text(
            "DELETE FROM member_contact_conflicts "
            "WHERE member_id = :id AND tenant_id = :tenant AND mode = :mode"
        ),
        {"id": member_id, "tenant": tenant_id, "mode": mode},
    )


async def tokens_by_printed_code(
    session: AsyncSession, tenant_id: uuid.UUID, mode: str, folded: str
) -> list[str]:
    """Active card tokens whose printed code folds to `folded` (at most two: one is an answer, two
    say the code is ambiguous). Uses the cards_printed_code index."""
    rows = await session.execute(
        text(
            "SELECT token FROM cards WHERE tenant_id = :tenant AND mode = :mode AND status = 'active' "
            "AND translate(right(token, 8), 'L', 'I') = :code LIMIT 2"
        ),
        {"tenant": tenant_id, "mode": mode, "code": folded},
    )
    return [str(r[0]) for r in rows]
