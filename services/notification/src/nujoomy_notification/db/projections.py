"""Queries over the contacts and tenants projections (fed by ledger.* and tenant.* events)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec
from nujoomy_contracts import ledger, tenant
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db.tables import contacts, daily_counts, tenants, unsubscribes
from nujoomy_notification.domain.branding import Brand, brand_from
from nujoomy_notification.domain.policy import RewardCost

MemberKey = tuple[uuid.UUID, str, uuid.UUID]  # (tenant_id, mode, member_id)


def _order(key: MemberKey) -> tuple[str, str, str]:
    return (str(key[0]), key[1], str(key[2]))


class TenantFacts(msgspec.Struct, kw_only=True):
    name: str = ""
    timezone: str = "UTC"
    locale: str = "en"
    balance_label: str = "Points"
    rewards: list[RewardCost] = []
    brand: Brand = Brand()


class ContactRow(msgspec.Struct, kw_only=True):
    name: str | None
    email: str | None
    phone: str | None
    locale: str | None
    consent_email: bool
    consent_sms: bool
    balance: int | None = None


async def upsert_contacts(db: AsyncSession, members: dict[MemberKey, ledger.Member]) -> None:
    """One statement for a batch's enrolments and updates (the caller keeps the last per member:
    one INSERT … ON CONFLICT cannot touch a row twice). Sorted, so concurrent batches lock in one order."""
    if not members:
        return
    rows = [
        {
            "tenant_id": tenant_id,
            "mode": mode,
            "member_id": member_id,
            "name": m.name,
            "email": m.email,
            "phone": m.phone,
            "locale": m.locale,
            "consent_email": m.consent_email,
            "consent_sms": m.consent_sms,
        }
        for (tenant_id, mode, member_id), m in sorted(members.items(), key=lambda item: _order(item[0]))
    ]
    stmt = insert(contacts).values(rows)
    changed = ("name", "email", "phone", "locale", "consent_email", "consent_sms")
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "mode", "member_id"],
            set_={c: stmt.excluded[c] for c in changed},
        )
    )


_BALANCES = text(
    """
    UPDATE contacts c SET balance = v.balance, balance_at = v.at
    FROM unnest(CAST(:tenants AS uuid[]), CAST(:modes AS text[]), CAST(:members AS uuid[]),
                CAST(:balances AS bigint[]), CAST(:ats AS timestamptz[]))
         AS v(tenant_id, mode, member_id, balance, at)
    WHERE c.tenant_id = v.tenant_id AND c.mode = v.mode AND c.member_id = v.member_id
      AND (c.balance_at IS NULL OR c.balance_at < v.at)
    """
)


async def note_balances(db: AsyncSession, noted: Sequence[tuple[MemberKey, int, datetime]]) -> None:
    """Keep the newest balance only: transactions can be consumed out of order. `noted` in arrival
    order; per member the newest wins (the first of equals, as one update after another would)."""
    newest: dict[MemberKey, tuple[int, datetime]] = {}
    for key, balance, at in noted:
        if key not in newest or newest[key][1] < at:
            newest[key] = (balance, at)
    if not newest:
        return
    keys = sorted(newest, key=_order)
    await db.execute(
        _BALANCES,
        {
            "tenants": [k[0] for k in keys],
            "modes": [k[1] for k in keys],
            "members": [k[2] for k in keys],
            "balances": [newest[k][0] for k in keys],
            "ats": [newest[k][1] for k in keys],
        },
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
        "brand": msgspec.to_builtins(
            brand_from(
                program.branding.background_color,
                program.branding.foreground_color,
                program.branding.label_color,
                program.branding.images,
            )
        ),
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
                tenants.c.brand,
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


async def is_unsubscribed(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, channel: str
) -> bool:
    u = unsubscribes.c
    found = await db.scalar(
        select(u.channel).where(
            u.tenant_id == tenant_id, u.mode == mode, u.member_id == member_id, u.channel == channel
        )
    )
    return found is not None


CountKey = tuple[uuid.UUID, str, uuid.UUID, date]  # (tenant_id, mode, member_id, tenant-local day)

_BUMP = text(
    """
    INSERT INTO daily_counts AS d (tenant_id, mode, member_id, day, count)
    SELECT * FROM unnest(CAST(:tenants AS uuid[]), CAST(:modes AS text[]), CAST(:members AS uuid[]),
                         CAST(:days AS date[]), CAST(:counts AS int[]))
    ON CONFLICT (tenant_id, mode, member_id, day) DO UPDATE SET count = d.count + EXCLUDED.count
    RETURNING tenant_id, mode, member_id, day, count AS total
    """
)


async def bump_counts(db: AsyncSession, wanted: dict[CountKey, int]) -> dict[CountKey, int]:
    """Count `wanted[key]` more messages for each member-day and return the new totals. The upsert
    locks the rows until commit, so two consumers handling the same member at once cannot both slip
    under the cap; keys go in sorted so two batches lock them in the same order."""
    if not wanted:
        return {}
    keys = sorted(wanted, key=lambda k: (*_order(k[:3]), k[3]))
    rows = await db.execute(
        _BUMP,
        {
            "tenants": [k[0] for k in keys],
            "modes": [k[1] for k in keys],
            "members": [k[2] for k in keys],
            "days": [k[3] for k in keys],
            "counts": [wanted[k] for k in keys],
        },
    )
    return {(r.tenant_id, r.mode, r.member_id, r.day): int(r.total) for r in rows}


async def clear_member(db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID) -> None:
    """GDPR erasure: forget the contact and its counters (message rows are scrubbed separately)."""
    await erase_contact(db, tenant_id, mode, member_id)
    for table in (daily_counts, unsubscribes):
        await db.execute(
            delete(table).where(
                table.c.tenant_id == tenant_id, table.c.mode == mode, table.c.member_id == member_id
            )
        )
