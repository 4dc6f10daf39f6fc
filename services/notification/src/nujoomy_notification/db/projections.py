"""Queries over the contacts and tenants projections (fed by ledger.* and tenant.* events)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec
from nujoomy_contracts import ledger, tenant
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db.tables import contacts, daily_counts, tenants, unsubscribes
from nujoomy_notification.domain.policy import RewardCost


class TenantFacts(msgspec.Struct, kw_only=True):
    name: str = ""
    timezone: str = "UTC"
    locale: str = "en"
    balance_label: str = "Points"
    rewards: list[RewardCost] = []


class ContactRow(msgspec.Struct, kw_only=True):
    name: str | None
    email: str | None
    phone: str | None
    locale: str | None
    consent_email: bool
    consent_sms: bool
    balance: int | None = None


async def upsert_contact(db: AsyncSession, tenant_id: uuid.UUID, mode: str, member: ledger.Member) -> None:
    values = {
        "name": member.name,
        "email": member.email,
        "phone": member.phone,
        "locale": member.locale,
        "consent_email": member.consent_email,
        "consent_sms": member.consent_sms,
    }
    stmt = insert(contacts).values(tenant_id=tenant_id, mode=mode, member_id=member.member_id, **values)
    await db.execute(
        stmt.on_conflict_do_update(index_elements=["tenant_id", "mode", "member_id"], set_=values)
    )


async def note_balance(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, *, balance: int, at: datetime
) -> None:
    """Keep the newest balance only: transactions can be consumed out of order."""
    await db.execute(
        update(contacts)
        .where(
            contacts.c.tenant_id == tenant_id,
            contacts.c.mode == mode,
            contacts.c.member_id == member_id,
            (contacts.c.balance_at.is_(None)) | (contacts.c.balance_at < at),
        )
        .values(balance=balance, balance_at=at)
    )


async def erase_contact(db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID) -> None:
    scope = (
        (contacts.c.tenant_id == tenant_id) & (contacts.c.mode == mode) & (contacts.c.member_id == member_id)
    )
    await db.execute(delete(contacts).where(scope))


async def get_contact(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID
) -> ContactRow | None:
    row = (
        await db.execute(
            select(
                contacts.c.name,
                contacts.c.email,
                contacts.c.phone,
                contacts.c.locale,
                contacts.c.consent_email,
                contacts.c.consent_sms,
                contacts.c.balance,
            ).where(
                contacts.c.tenant_id == tenant_id, contacts.c.mode == mode, contacts.c.member_id == member_id
            )
        )
    ).first()
    return ContactRow(**row._asdict()) if row else None


async def upsert_tenant(db: AsyncSession, tenant_id: uuid.UUID, mode: str, facts: tenant.Tenant) -> None:
    values = {"name": facts.name, "timezone": facts.timezone, "locale": facts.locale}
    stmt = insert(tenants).values(tenant_id=tenant_id, mode=mode, **values)
    await db.execute(stmt.on_conflict_do_update(index_elements=["tenant_id", "mode"], set_=values))


async def apply_program(db: AsyncSession, tenant_id: uuid.UUID, mode: str, program: tenant.Program) -> None:
    """Replace the program facts when this version is newer; an older, late event changes nothing."""
    rewards = [{"name": r.name, "cost": r.cost} for r in program.rewards if r.active]
    values: dict[str, Any] = {
        "name": program.tenant.name,
        "timezone": program.tenant.timezone,
        "locale": program.tenant.locale,
        "balance_label": program.wording.balance_label or "Points",
        "program_version": program.version,
        "rewards": rewards,
    }
    stmt = insert(tenants).values(tenant_id=tenant_id, mode=mode, **values)
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "mode"],
            set_=values,
            where=tenants.c.program_version < program.version,
        )
    )


async def get_tenant(db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> TenantFacts:
    row = (
        await db.execute(
            select(
                tenants.c.name,
                tenants.c.timezone,
                tenants.c.locale,
                tenants.c.balance_label,
                tenants.c.rewards,
            ).where(tenants.c.tenant_id == tenant_id, tenants.c.mode == mode)
        )
    ).first()
    if row is None:
        return TenantFacts()
    # Result keys are SQLAlchemy quoted_name (a str subclass) which msgspec.convert does not take as str.
    return msgspec.convert({str(k): v for k, v in row._asdict().items()}, TenantFacts)


async def add_unsubscribe(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, channel: str
) -> None:
    stmt = insert(unsubscribes).values(tenant_id=tenant_id, mode=mode, member_id=member_id, channel=channel)
    await db.execute(stmt.on_conflict_do_nothing())


async def bump_today(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, day: date
) -> int:
    """Count one more message for today and return the new count. The upsert locks the row, so two
    consumers handling the same member at once cannot both slip under the cap."""
    stmt = insert(daily_counts).values(tenant_id=tenant_id, mode=mode, member_id=member_id, day=day, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "mode", "member_id", "day"], set_={"count": daily_counts.c.count + 1}
    )
    return int((await db.execute(stmt.returning(daily_counts.c.count))).scalar_one())


async def clear_member(db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID) -> None:
    """GDPR erasure: forget the contact and its counters (message rows are scrubbed separately)."""
    await erase_contact(db, tenant_id, mode, member_id)
    for table in (daily_counts, unsubscribes):
        await db.execute(
            delete(table).where(
                table.c.tenant_id == tenant_id, table.c.mode == mode, table.c.member_id == member_id
            )
        )


class TemplateOverride(msgspec.Struct, kw_only=True):
    locale: str
    channel: str
    subject: str
    html: str
    text: str


class MemberFacts(msgspec.Struct, kw_only=True):
    """Everything deciding one event's messages needs, read in one round trip."""

    contact: ContactRow | None
    tenant: TenantFacts
    unsubscribed: set[str]
    overrides: dict[tuple[str, str], TemplateOverride]  # (locale, channel) -> the tenant's template


_FACTS = text(
    """
    WITH noted AS (
      -- the balance from a ledger.transaction.posted, kept only if newer (events arrive out of order)
      UPDATE contacts SET balance = CAST(:balance AS bigint), balance_at = CAST(:at AS timestamptz)
      WHERE CAST(:balance AS bigint) IS NOT NULL AND tenant_id = :t AND mode = :m AND member_id = :member
        AND (balance_at IS NULL OR balance_at < CAST(:at AS timestamptz))
      RETURNING 1
    )
    SELECT
      (SELECT row_to_json(c) FROM (
         SELECT name, email, phone, locale, consent_email, consent_sms, balance FROM contacts
         WHERE tenant_id = :t AND mode = :m AND member_id = :member) c) AS contact,
      (SELECT row_to_json(x) FROM (
         SELECT name, timezone, locale, balance_label, rewards FROM tenants
         WHERE tenant_id = :t AND mode = :m) x) AS tenant,
      ARRAY(SELECT channel FROM unsubscribes
            WHERE tenant_id = :t AND mode = :m AND member_id = :member) AS unsubscribed,
      (SELECT json_agg(o) FROM (
         SELECT locale, channel, subject, html, text FROM templates
         WHERE tenant_id = :t AND mode = :m AND kind = :kind) o) AS overrides
    """
)


async def member_facts(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    member_id: uuid.UUID,
    kind: str,
    *,
    balance: tuple[int, datetime] | None = None,
) -> MemberFacts:
    """`balance`: (balance, as of) to record in the same round trip. The contact read here is the
    snapshot from before that update, which is fine: the caller has the newer balance in hand."""
    params = {"t": tenant_id, "m": mode, "member": member_id, "kind": kind, "balance": None, "at": None}
    if balance is not None:
        params["balance"], params["at"] = balance
    row = (await db.execute(_FACTS, params)).one()
    # The driver has already decoded the json columns into dicts and lists.
    overrides = msgspec.convert(row.overrides or [], list[TemplateOverride])
    return MemberFacts(
        contact=msgspec.convert(row.contact, ContactRow) if row.contact else None,
        tenant=msgspec.convert(row.tenant, TenantFacts) if row.tenant else TenantFacts(),
        unsubscribed=set(row.unsubscribed or ()),
        overrides={(o.locale, o.channel): o for o in overrides},
    )
