"""The program projection: the latest tenant.program.updated per (tenant, mode)."""

from __future__ import annotations

import uuid

import msgspec
from nujoomy_contracts.tenant import Program
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_UPSERT = text(
    """
    INSERT INTO programs (tenant_id, mode, program_id, version, type, currency, rules)
    VALUES (:tenant, :mode, :program, :version, :type, :currency, CAST(:rules AS jsonb))
    ON CONFLICT (tenant_id, mode) DO UPDATE
       SET program_id = excluded.program_id, version = excluded.version, type = excluded.type,
           currency = excluded.currency, rules = excluded.rules, updated_at = now()
     WHERE programs.version < excluded.version
    RETURNING 1
    """
)

_GET = text("SELECT rules::text FROM programs WHERE tenant_id = :tenant AND mode = :mode")

_decoder = msgspec.json.Decoder(Program)


async def upsert_program(session: AsyncSession, tenant_id: uuid.UUID, mode: str, program: Program) -> bool:
    """Replace the projection when `program` is newer; an older or equal version changes nothing."""
    result = await session.execute(
        _UPSERT,
        {
            "tenant": tenant_id,
            "mode": mode,
            "program": program.program_id,
            "version": program.version,
            "type": program.type,
            "currency": program.currency,
            "rules": msgspec.json.encode(program).decode(),
        },
    )
    return result.first() is not None


async def get_program(session: AsyncSession, tenant_id: uuid.UUID, mode: str) -> Program | None:
    raw = (await session.execute(_GET, {"tenant": tenant_id, "mode": mode})).scalar_one_or_none()
    return None if raw is None else _decoder.decode(raw)


class Subject(msgspec.Struct, kw_only=True):
    """What a write needs before it can decide: the program and the member (id and status)."""

    program: Program | None
    member_id: uuid.UUID | None
    member_status: str | None


_BY_ID = (
    "SELECT m.id, m.status FROM members m WHERE m.id = :member AND m.tenant_id = :tenant AND m.mode = :mode"
)
_BY_CARD = (
    "SELECT m.id, m.status FROM cards c JOIN members m ON m.id = c.member_id "
    "WHERE c.token = :card AND c.status = 'active' AND c.tenant_id = :tenant AND c.mode = :mode"
)
_SUBJECT = (
    "SELECT (SELECT rules::text FROM programs WHERE tenant_id = :tenant AND mode = :mode) AS rules, "
    "mm.id, mm.status FROM (SELECT 1) one LEFT JOIN ({member}) mm ON true"
)
_SUBJECT_BY_ID = text(_SUBJECT.format(member=_BY_ID))
_SUBJECT_BY_CARD = text(_SUBJECT.format(member=_BY_CARD))


async def subject(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    *,
    member_id: uuid.UUID | None = None,
    card_token: str | None = None,
) -> Subject:
    """One round trip for the program and the member, by member id or by an active card token."""
    if card_token is not None:
        params: dict[str, object] = {"tenant": tenant_id, "mode": mode, "card": card_token}
        row = (await session.execute(_SUBJECT_BY_CARD, params)).one()
    else:
        params = {"tenant": tenant_id, "mode": mode, "member": member_id}
        row = (await session.execute(_SUBJECT_BY_ID, params)).one()
    program = None if row.rules is None else _decoder.decode(row.rules)
    return Subject(program=program, member_id=row.id, member_status=row.status)
