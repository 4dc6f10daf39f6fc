"""Turning a ledger fact into message rows: one per channel the member has, queued or suppressed.

Runs inside the consumer's inbox transaction, so the rows, the daily counter and the inbox entry
commit together: a redelivered event finds its inbox row and writes nothing new.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from nujoomy_kit.ids import uuid7
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db import projections
from nujoomy_notification.db.messages import NewMessage, add_messages
from nujoomy_notification.domain import unsubscribe
from nujoomy_notification.domain.context import build_context
from nujoomy_notification.domain.defaults import default_template
from nujoomy_notification.domain.errors import TemplateInvalid
from nujoomy_notification.domain.kinds import CHANNELS, Channel, Kind, pick_locale
from nujoomy_notification.domain.policy import Contact, Decision, decide, local_day, recipient, tenant_zone
from nujoomy_notification.domain.rendering import Rendered, TemplateSource, render
from nujoomy_notification.settings import Settings

log = structlog.get_logger("nujoomy.notification")

# Extra values that cost a network call (wallet links); fetched only when something will be sent.
LazyValues = Callable[[], Awaitable[dict[str, Any]]]


class ContactNotYetKnown(RuntimeError):
    """An event about a member whose enrolment has not been consumed yet (events on one queue are
    handled concurrently, so an earn can overtake its enrolment). Raising retries the event later."""


class Planner:
    def __init__(self, settings: Settings, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.rules = settings.rules()
        self._secret = settings.unsubscribe_secret.encode()
        self._now = now or (lambda: datetime.now(UTC))

    def unsubscribe_url(self, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, channel: Channel) -> str:
        target = unsubscribe.UnsubscribeTarget(
            tenant_id=tenant_id,
            member_id=member_id,
            mode="live" if mode == "live" else "test",
            channel=channel,
        )
        base = self.settings.unsubscribe_base_url.rstrip("/")
        return f"{base}/unsubscribe/{unsubscribe.sign(self._secret, target)}"

    async def plan(
        self,
        db: AsyncSession,
        *,
        event_id: uuid.UUID,
        tenant_id: uuid.UUID,
        mode: str,
        member_id: uuid.UUID,
        kind: Kind,
        values: dict[str, Any],
        occurred_at: datetime,
        lazy: LazyValues | None = None,
        known: projections.MemberFacts | None = None,
    ) -> list[NewMessage]:
        """`known`: the facts, when the caller already read them (for the same kind) in this transaction."""
        now = self._now()
        live_or_test = "live" if mode == "live" else "test"
        known = known or await projections.member_facts(db, tenant_id, mode, member_id, kind)
        row, facts = known.contact, known.tenant
        if row is None and (now - occurred_at).total_seconds() < self.settings.contact_grace_s:
            raise ContactNotYetKnown(f"member {member_id} is not known yet")
        contact = Contact(
            email=row.email if row else None,
            phone=row.phone if row else None,
            consent_email=bool(row and row.consent_email),
            consent_sms=bool(row and row.consent_sms),
        )
        zone = tenant_zone(facts.timezone)
        day = local_day(now, zone)
        locale = pick_locale(row.locale if row else None, facts.locale)
        unsubscribed = known.unsubscribed
        channels = [c for c in CHANNELS if recipient(contact, c)] or ["email"]
        base: dict[str, Any] = {
            "member_name": (row.name if row else None) or "",
            "tenant_name": facts.name,
            "balance_label": facts.balance_label,
            "balance": row.balance if row and row.balance is not None else "",
            **values,
        }
        out: list[NewMessage] = []
        for channel in channels:
            facts_now = {
                "kind": kind,
                "channel": channel,
                "contact": contact,
                "unsubscribed": channel in unsubscribed,
                "mode": live_or_test,
                "zone": zone,
                "now": now,
            }
            decision = self._decide(sent_today=0, **facts_now)
            if decision.send:
                # Count only what passes every other rule; the upsert serialises concurrent consumers.
                count = await projections.bump_today(db, tenant_id, mode, member_id, day)
                decision = self._decide(sent_today=count - 1, **facts_now)
            message = NewMessage(
                id=uuid7(),
                tenant_id=tenant_id,
                mode=mode,
                member_id=member_id,
                event_id=event_id,
                kind=kind,
                channel=channel,
                locale=locale,
                recipient=recipient(contact, channel) or "",
                status="queued" if decision.send else "suppressed",
                reason=decision.reason,
                send_after=decision.send_after,
            )
            if decision.send:
                if lazy is not None:
                    base.update(await lazy())
                    lazy = None
                context = build_context(
                    kind,
                    {**base, "unsubscribe_url": self.unsubscribe_url(tenant_id, mode, member_id, channel)},
                )
                found = known.overrides.get((locale, channel))
                override = (
                    TemplateSource(subject=found.subject, html=found.html, text=found.text) if found else None
                )
                rendered = self._render(override, kind=kind, locale=locale, channel=channel, context=context)
                message.subject, message.html, message.text = rendered.subject, rendered.html, rendered.text
            out.append(message)
        await add_messages(db, out)
        return out

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
    ) -> Rendered:
        if override is not None:
            try:
                return render(override, channel, locale, context)
            except TemplateInvalid as exc:
                # Validated when saved, so this means a value the sample did not foresee: the customer
                # still gets the built-in wording rather than nothing.
                log.warning(
                    "template_override_failed", kind=kind, locale=locale, channel=channel, error=str(exc)
                )
        return render(default_template(kind, locale, channel), channel, locale, context)
