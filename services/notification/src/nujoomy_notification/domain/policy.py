"""Whether a message may go out, and when: consent, unsubscribes, the daily cap, test mode, quiet hours.

Consent is marketing consent (the "news and offers" box at enrolment, the preferences page): it
governs marketing kinds only (`kinds.MARKETING`). A transactional message (the welcome with the
card links, a receipt) goes to the address the customer gave unless the customer unsubscribed that
channel with the link in a message: that opt-out stays the customer's, for every kind.

Pure rules; the consumer gathers the facts (contact, unsubscribes, today's count) and writes the row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from nujoomy_notification.domain.kinds import MARKETING, URGENT, Channel, Kind

Reason = Literal["no_contact", "no_consent", "unsubscribed", "daily_cap", "test_mode", "quiet_hours"]


class Contact(msgspec.Struct, kw_only=True):
    email: str | None = None
    phone: str | None = None
    consent_email: bool = False
    consent_sms: bool = False


class Rules(msgspec.Struct, kw_only=True):
    daily_cap: int = 5
    quiet_start: int = 21  # local hour the quiet period starts
    quiet_end: int = 8  # local hour it ends
    test_sink: bool = True  # a dev sink exists for test-mode messages


class Decision(msgspec.Struct, kw_only=True):
    send: bool
    reason: Reason | None = None  # why suppressed, or why deferred (quiet_hours)
    send_after: datetime | None = None


def tenant_zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_day(now: datetime, zone: tzinfo) -> date:
    """The member's 'today' for the daily cap is the tenant's calendar day."""
    return now.astimezone(zone).date()


def quiet_until(now: datetime, zone: tzinfo, start: int, end: int) -> datetime | None:
    """The end of the quiet period `now` falls in (as UTC), or None outside it. start == end: never quiet."""
    if start == end:
        return None
    local = now.astimezone(zone)
    hour = local.hour
    inside = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not inside:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    wake = datetime.combine(day, time(end), tzinfo=zone)
    return wake.astimezone(UTC)


def recipient(contact: Contact, channel: Channel) -> str | None:
    return contact.email if channel == "email" else contact.phone


def consents(contact: Contact, channel: Channel) -> bool:
    """Marketing consent for the channel."""
    return contact.consent_email if channel == "email" else contact.consent_sms


def needs_consent(kind: Kind) -> bool:
    """Only marketing needs marketing consent; transactional messages are not marketing."""
    return kind in MARKETING


def decide(
    *,
    kind: Kind,
    channel: Channel,
    contact: Contact,
    unsubscribed: bool,
    sent_today: int,
    mode: Literal["live", "test"],
    zone: tzinfo,
    now: datetime,
    rules: Rules,
) -> Decision:
    """`sent_today` counts messages already let through today, this one excluded."""
    if not recipient(contact, channel):
        return Decision(send=False, reason="no_contact")
    if needs_consent(kind) and not consents(contact, channel):
        return Decision(send=False, reason="no_consent")
    if unsubscribed:
        return Decision(send=False, reason="unsubscribed")
    if mode == "test" and not rules.test_sink:
        return Decision(send=False, reason="test_mode")
    if sent_today >= rules.daily_cap:
        return Decision(send=False, reason="daily_cap")
    if kind not in URGENT:
        wake = quiet_until(now, zone, rules.quiet_start, rules.quiet_end)
        if wake is not None:
            return Decision(send=True, reason="quiet_hours", send_after=wake)
    return Decision(send=True, send_after=now)


class RewardCost(msgspec.Struct, kw_only=True):
    name: str
    cost: int


def newly_affordable(rewards: list[RewardCost], balance_before: int, balance_after: int) -> RewardCost | None:
    """The most valuable reward this earn crossed into reach (one nudge per earn, not one per reward)."""
    crossed = [r for r in rewards if balance_before < r.cost <= balance_after]
    return max(crossed, key=lambda r: r.cost) if crossed else None
