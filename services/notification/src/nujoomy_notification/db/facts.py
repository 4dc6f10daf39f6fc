"""What deciding a batch's messages needs — contacts, tenant facts, unsubscribes, template overrides —
read for every member of the batch in one round trip."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db.projections import ContactRow, MemberKey, TenantFacts


class TemplateOverride(msgspec.Struct, kw_only=True):
    locale: str
    channel: str
    subject: str
    html: str
    text: str


class MemberFacts(msgspec.Struct, kw_only=True):
    """Everything deciding one event's messages of one kind needs."""

    contact: ContactRow | None
    tenant: TenantFacts
    unsubscribed: set[str]
    overrides: dict[tuple[str, str], TemplateOverride]  # (locale, channel) -> the tenant's template


class _Contact(ContactRow, kw_only=True):
    tenant_id: uuid.UUID
    mode: str
    member_id: uuid.UUID


class _Tenant(TenantFacts, kw_only=True):
    tenant_id: uuid.UUID
    mode: str


class _Unsubscribe(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    mode: str
    member_id: uuid.UUID
    channel: str


class _Override(TemplateOverride, kw_only=True):
    tenant_id: uuid.UUID
    mode: str
    kind: str


class Facts:
    """The batch's facts, answered per (member, kind) without another query."""

    def __init__(
        self,
        contacts: list[_Contact],
        tenants: list[_Tenant],
        unsubscribes: list[_Unsubscribe],
        overrides: list[_Override],
    ) -> None:
        self._contacts = {(c.tenant_id, c.mode, c.member_id): c for c in contacts}
        self._tenants = {(t.tenant_id, t.mode): t for t in tenants}
        self._unsubscribed: dict[MemberKey, set[str]] = {}
        for u in unsubscribes:
            self._unsubscribed.setdefault((u.tenant_id, u.mode, u.member_id), set()).add(u.channel)
        self._overrides: dict[tuple[uuid.UUID, str, str], dict[tuple[str, str], TemplateOverride]] = {}
        for o in overrides:
            found = TemplateOverride(
                locale=o.locale, channel=o.channel, subject=o.subject, html=o.html, text=o.text
            )
            self._overrides.setdefault((o.tenant_id, o.mode, o.kind), {})[(o.locale, o.channel)] = found

    def tenant(self, tenant_id: uuid.UUID, mode: str) -> TenantFacts:
        return self._tenants.get((tenant_id, mode)) or TenantFacts()

    def member(self, key: MemberKey, kind: str) -> MemberFacts:
        tenant_id, mode, _ = key
        return MemberFacts(
            contact=self._contacts.get(key),
            tenant=self.tenant(tenant_id, mode),
            unsubscribed=self._unsubscribed.get(key, set()),
            overrides=self._overrides.get((tenant_id, mode, kind), {}),
        )


_FACTS = text(
    """
    WITH k AS (
      SELECT * FROM unnest(CAST(:tenants AS uuid[]), CAST(:modes AS text[]), CAST(:members AS uuid[]))
        AS k(tenant_id, mode, member_id)
    ), s AS (SELECT DISTINCT tenant_id, mode FROM k)
    SELECT
      (SELECT json_agg(c) FROM (
         SELECT tenant_id, mode, member_id, name, email, phone, locale, consent_email, consent_sms, balance
         FROM contacts JOIN k USING (tenant_id, mode, member_id)) c) AS contacts,
      (SELECT json_agg(x) FROM (
         SELECT tenant_id, mode, name, timezone, locale, balance_label, rewards, brand
         FROM tenants JOIN s USING (tenant_id, mode)) x) AS tenants,
      (SELECT json_agg(u) FROM (
         SELECT tenant_id, mode, member_id, channel
         FROM unsubscribes JOIN k USING (tenant_id, mode, member_id)) u) AS unsubscribes,
      (SELECT json_agg(o) FROM (
         SELECT tenant_id, mode, kind, locale, channel, subject, html, text
         FROM templates JOIN s USING (tenant_id, mode)
         WHERE kind = ANY(CAST(:kinds AS text[]))) o) AS overrides
    """
)


async def read_facts(db: AsyncSession, members: Collection[MemberKey], kinds: Collection[str]) -> Facts:
    """`members` distinct; `kinds` the message kinds whose template overrides the batch may need."""
    keys = list(members)
    params = {
        "tenants": [k[0] for k in keys],
        "modes": [k[1] for k in keys],
        "members": [k[2] for k in keys],
        "kinds": sorted(kinds),
    }
    row = (await db.execute(_FACTS, params)).one()
    # The driver has already decoded the json columns into dicts and lists (ids as strings).
    return Facts(
        msgspec.convert(row.contacts or [], list[_Contact], strict=False),
        msgspec.convert(row.tenants or [], list[_Tenant], strict=False),
        msgspec.convert(row.unsubscribes or [], list[_Unsubscribe], strict=False),
        msgspec.convert(row.overrides or [], list[_Override], strict=False),
    )
