"""Turning ledger facts into message rows: one per channel the member has, queued or suppressed.

Runs inside the consumer's inbox transaction, so the rows, the daily counters and the inbox entries
commit together: a redelivered event finds its inbox row and writes nothing new. A batch of events
is planned at once: the daily counters in one upsert, the rows in one insert.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import structlog
from nujoomy_kit.ids import uuid7
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db import projections
from nujoomy_notification.db.facts import Facts, MemberFacts
from nujoomy_notification.db.messages import NewMessage, add_messages
from nujoomy_notification.domain import unsubscribe
from nujoomy_notification.domain.branding import Look
from nujoomy_notification.domain.branding import look as business_look
from nujoomy_notification.domain.context import build_context
from nujoomy_notification.domain.defaults import default_template
from nujoomy_notification.domain.errors import TemplateBudgetExceeded, TemplateInvalid
from nujoomy_notification.domain.kinds import CHANNELS, Channel, Kind, pick_locale
from nujoomy_notification.domain.policy import Contact, Decision, decide, local_day, recipient, tenant_zone
from nujoomy_notification.domain.rendering import Rendered, TemplateSource, render
from nujoomy_notification.settings import Settings

log = structlog.get_logger("nujoomy.notification")

# Extra values that cost a network call (wallet links); fetched only when something will be sent.
LazyValues = Callable[[], Awaitable[dict[str, Any]]]


class Intent(msgspec.Struct, kw_only=True):
    """One message kind an event asks for, before consent and the cap have had their say."""

    event_id: uuid.UUID
    tenant_id: uuid.UUID
    mode: str
    member_id: uuid.UUID
    kind: Kind
    values: dict[str, Any]
    occurred_at: datetime
    lazy: LazyValues | None = None


class _Draft(msgspec.Struct, kw_only=True):
    """One channel of one intent between the first decision and the row."""

    intent: Intent
    known: MemberFacts
    message: NewMessage
    channel: Channel
    day: date  # the tenant-local day the daily cap counts in
    checks: dict[str, Any]  # the facts `decide` needs, bar today's count
    decision: Decision
    slot: tuple[projections.CountKey, int] | None = None  # (member-day, place among this batch's sends)


class ContactNotYetKnown(RuntimeError):
    """An event about a member whose enrolment has not been consumed yet (competing workers, or a
    retried enrolment, let an earn overtake it). Raising retries the event later; in a batch it rolls
    the batch back, the consumer applies it again one event at a time and only this one is retried."""


class Planner:
    def __init__(self, settings: Settings, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.rules = settings.rules()
        self.budget = settings.render_budget()
        self._secret = settings.unsubscribe_secret.encode()
        self._now = now or (lambda: datetime.now(UTC))

    def unsubscribe_url(self, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, channel: Channel) -> str:
        target = unsubscribe.UnsubscribeTarget(
            tenant_id=tenant_id,
            member_id=member_id,
            mode="live" if mode == "live" else "test",
            channel=channel,
        )
        base = (self.settings.unsubscribe_base_url or self.settings.public_url).rstrip("/")
        return f"{base}/unsubscribe/{unsubscribe.sign(self._secret, target)}"

    async def plan(self, db: AsyncSession, intents: list[Intent], facts: Facts) -> list[NewMessage]:
        """Decide, count, render and write the rows of `intents` (in arrival order) from `facts`, read
        in this transaction. The same rules as one event at a time: a send counts towards the cap in
        the order it arrived, so the batch's third message to a member sees the first two."""
        now = self._now()
        drafts: list[_Draft] = []
        wanted: dict[projections.CountKey, int] = {}
        for intent in intents:
            for draft in self._drafts(intent, facts, now):
                if draft.decision.send:
                    # Count only what passes every other rule.
                    key = (intent.tenant_id, intent.mode, intent.member_id, draft.day)
                    draft.slot = (key, wanted.get(key, 0))
                    wanted[key] = wanted.get(key, 0) + 1
                drafts.append(draft)
        totals = await projections.bump_counts(db, wanted)
        for draft in drafts:
            if draft.slot is not None:
                key, place = draft.slot
                before = totals[key] - wanted[key] + place  # let through today before this one
                draft.decision = self._decide(sent_today=before, **draft.checks)
            decision = draft.decision
            draft.message.status = "queued" if decision.send else "suppressed"
            draft.message.reason = decision.reason
            draft.message.send_after = decision.send_after
        extra = await self._lazy_values([d for d in drafts if d.decision.send])
        # Tenant templates are untrusted code: rendered in a worker thread, each under the render
        # budget, so one being cut off does not hold up the event loop (the sender, other batches).
        await asyncio.to_thread(self._fill_all, [d for d in drafts if d.decision.send], extra)
        rows = [d.message for d in drafts]
        await add_messages(db, rows)
        return rows

    def _drafts(self, intent: Intent, facts: Facts, now: datetime) -> list[_Draft]:
        known = facts.member((intent.tenant_id, intent.mode, intent.member_id), intent.kind)
        row, tenant = known.contact, known.tenant
        if row is None and (now - intent.occurred_at).total_seconds() < self.settings.contact_grace_s:
            raise ContactNotYetKnown(f"member {intent.member_id} is not known yet")
        contact = Contact(
            email=row.email if row else None,
            phone=row.phone if row else None,
            consent_email=bool(row and row.consent_email),
            consent_sms=bool(row and row.consent_sms),
        )
        zone = tenant_zone(tenant.timezone)
        day = local_day(now, zone)
        locale = pick_locale(row.locale if row else None, tenant.locale)
        out = []
        channels: list[Channel] = [c for c in CHANNELS if recipient(contact, c)] or ["email"]
        for channel in channels:
            checks: dict[str, Any] = {
                "kind": intent.kind,
                "channel": channel,
                "contact": contact,
                "unsubscribed": channel in known.unsubscribed,
                "mode": "live" if intent.mode == "live" else "test",
                "zone": zone,
                "now": now,
            }
            message = NewMessage(
                id=uuid7(),
                tenant_id=intent.tenant_id,
                mode=intent.mode,
                member_id=intent.member_id,
                event_id=intent.event_id,
                kind=intent.kind,
                channel=channel,
                locale=locale,
                recipient=recipient(contact, channel) or "",
                status="suppressed",
            )
            draft = _Draft(
                intent=intent,
                known=known,
                message=message,
                channel=channel,
                day=day,
                checks=checks,
                decision=self._decide(sent_today=0, **checks),
            )
            out.append(draft)
        return out

    async def _lazy_values(self, sending: list[_Draft]) -> dict[int, dict[str, Any]]:
        """Wallet links for the intents that will send something, fetched concurrently (at most
        `consumer_concurrency` at once). This runs inside the batch's transaction (the consumer
        opens it before the handler is called, so there is no earlier place to fetch them without a
        hook in nujoomy_messaging, and before the facts are read nobody knows who will be sent
        anything). Fetched together, a batch with many enrolments holds its transaction for about
        one wallet-pass round trip (at most the client's timeout) — what a single enrolment held it
        for when events were applied one per transaction — rather than one round trip per
        enrolment. A failure rolls the batch back; the consumer then applies it one at a time and
        only the enrolment whose links failed is retried."""
        wanted = {id(d.intent): d.intent.lazy for d in sending if d.intent.lazy is not None}
        if not wanted:
            return {}
        limit = asyncio.Semaphore(max(1, self.settings.consumer_concurrency))

        async def fetch(lazy: LazyValues) -> dict[str, Any]:
            async with limit:
                return await lazy()

        try:
            async with asyncio.TaskGroup() as group:
                tasks = {key: group.create_task(fetch(lazy)) for key, lazy in wanted.items()}
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the event's own error, for its retry headers
        return {key: task.result() for key, task in tasks.items()}

    def _fill_all(self, sending: list[_Draft], extra: dict[int, dict[str, Any]]) -> None:
        for draft in sending:
            self._fill_or_suppress(draft, extra.get(id(draft.intent), {}))

    def _fill_or_suppress(self, draft: _Draft, extra: dict[str, Any]) -> None:
        """A message that cannot be rendered (e.g. an SMS over its length with these values) is
        kept as suppressed with the reason, and the event's other messages still go: raising would
        retry the whole event into the dead-letter queue, and every later event about the member
        would wait behind it. The same for one whose template runs past the render budget."""
        try:
            self._fill(draft, extra)
        except (TemplateBudgetExceeded, TemplateInvalid) as exc:
            over = isinstance(exc, TemplateBudgetExceeded)
            log.warning(
                "template_budget_exceeded" if over else "message_unrenderable",
                tenant_id=str(draft.intent.tenant_id),
                kind=draft.intent.kind,
                channel=draft.channel,
                locale=draft.message.locale,
                error=str(exc),
            )
            draft.message.status = "suppressed"
            draft.message.reason = "template_budget" if over else "template_invalid"
            draft.message.send_after = None

    def _fill(self, draft: _Draft, extra: dict[str, Any]) -> None:
        intent, known, message = draft.intent, draft.known, draft.message
        row, tenant = known.contact, known.tenant
        values: dict[str, Any] = {
            "member_name": (row.name if row else None) or "",
            "tenant_name": tenant.name,
            "balance_label": tenant.balance_label,
            "balance": row.balance if row and row.balance is not None else "",
            **intent.values,
            **extra,
            "unsubscribe_url": self.unsubscribe_url(
                intent.tenant_id, intent.mode, intent.member_id, draft.channel
            ),
        }
        context = build_context(intent.kind, values)
        found = known.overrides.get((message.locale, message.channel))
        override = TemplateSource(subject=found.subject, html=found.html, text=found.text) if found else None
        look = business_look(tenant.name, tenant.brand, self.settings.public_url)
        rendered = self._render(
            override,
            kind=intent.kind,
            locale=message.locale,
            channel=draft.channel,
            context=context,
            look=look,
        )
        message.from_name = tenant.name
        message.subject, message.html, message.text = rendered.subject, rendered.html, rendered.text

    def _decide(
        self,
        *,
        kind: Kind,
        channel: Channel,
        contact: Contact,
        unsubscribed: bool,
        sent_today: int,
        mode: Any,
        zone: Any,
        now: datetime,
    ) -> Decision:
        return decide(
            kind=kind,
            channel=channel,
            contact=contact,
            unsubscribed=unsubscribed,
            sent_today=sent_today,
            mode=mode,
            zone=zone,
            now=now,
            rules=self.rules,
        )

    def _render(
        self,
        override: TemplateSource | None,
        *,
        kind: Kind,
        locale: Any,
        channel: Channel,
        context: dict[str, Any],
        look: Look,
    ) -> Rendered:
        if override is not None:
            try:
                return render(override, channel, locale, context, budget=self.budget, look=look)
            except TemplateInvalid as exc:
                # Validated when saved, so this means a value the sample did not foresee: the customer
                # still gets the built-in wording rather than nothing. (Past the render budget it
                # is suppressed instead: see _fill_or_suppress.)
                log.warning(
                    "template_override_failed", kind=kind, locale=locale, channel=channel, error=str(exc)
                )
        default = default_template(kind, locale, channel)
        return render(default, channel, locale, context, budget=self.budget, look=look)
