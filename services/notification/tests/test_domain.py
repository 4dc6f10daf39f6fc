"""The pure rules: quiet hours across midnight and time zones, reward crossings, unsubscribe tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from nujoomy_notification.domain.errors import InvalidUnsubscribeToken
from nujoomy_notification.domain.kinds import MARKETING, TRANSACTIONAL, pick_locale
from nujoomy_notification.domain.policy import (
    Contact,
    RewardCost,
    Rules,
    decide,
    newly_affordable,
    quiet_until,
    tenant_zone,
)
from nujoomy_notification.domain.unsubscribe import UnsubscribeTarget, sign, verify

RIYADH = tenant_zone("Asia/Riyadh")  # UTC+3, no DST


@pytest.mark.parametrize(
    ("utc", "wake"),
    [
        (datetime(2026, 3, 1, 19, 30, tzinfo=UTC), datetime(2026, 3, 2, 5, 0, tzinfo=UTC)),  # 22:30 local
        (
            datetime(2026, 3, 1, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 2, 5, 0, tzinfo=UTC),
        ),  # 02:00 local, next day
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), None),  # 15:00 local
        (datetime(2026, 3, 1, 5, 0, tzinfo=UTC), None),  # 08:00 local: quiet just ended
    ],
)
def test_quiet_hours_wrap_midnight_in_the_tenant_zone(utc, wake):
    assert quiet_until(utc, RIYADH, 21, 8) == wake


def test_nudges_wait_receipts_do_not():
    night = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 23:00 in Riyadh
    contact = Contact(email="a@example.com", consent_email=True)
    common = {
        "channel": "email",
        "contact": contact,
        "unsubscribed": False,
        "sent_today": 0,
        "mode": "live",
        "zone": RIYADH,
        "now": night,
        "rules": Rules(),
    }
    nudge = decide(kind="points_expiring", **common)
    receipt = decide(kind="points_earned", **common)
    assert (nudge.send, nudge.reason, nudge.send_after) == (
        True,
        "quiet_hours",
        datetime(2026, 3, 2, 5, tzinfo=UTC),
    )
    assert (receipt.send, receipt.reason, receipt.send_after) == (True, None, night)


def test_the_order_of_reasons():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    base = {
        "kind": "points_earned",
        "channel": "email",
        "sent_today": 0,
        "mode": "live",
        "zone": UTC,
        "now": now,
    }
    rules = Rules(daily_cap=1, test_sink=False)
    assert decide(contact=Contact(), unsubscribed=False, rules=rules, **base).reason == "no_contact"
    c = Contact(email="a@example.com")
    marketing = {**base, "kind": "points_expiring"}
    assert decide(contact=c, unsubscribed=False, rules=rules, **marketing).reason == "no_consent"
    assert decide(contact=c, unsubscribed=True, rules=rules, **base).reason == "unsubscribed"
    c = Contact(email="a@example.com", consent_email=True)
    assert decide(contact=c, unsubscribed=True, rules=rules, **base).reason == "unsubscribed"
    assert (
        decide(contact=c, unsubscribed=False, rules=rules, **{**base, "mode": "test"}).reason == "test_mode"
    )
    assert (
        decide(contact=c, unsubscribed=False, rules=rules, **{**base, "sent_today": 1}).reason == "daily_cap"
    )


def test_marketing_consent_governs_marketing_only():
    """Not ticking "news and offers" stops nudges, never the welcome or a receipt; unsubscribing a
    channel (the customer's own opt-out) stops everything on it."""
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    no_marketing = Contact(email="a@example.com", phone="+966500000001")
    rules = Rules(quiet_start=0, quiet_end=0)
    common = {"contact": no_marketing, "sent_today": 0, "mode": "live", "zone": UTC, "now": now}
    for channel in ("email", "sms"):
        for kind in TRANSACTIONAL:
            sent = decide(kind=kind, channel=channel, unsubscribed=False, rules=rules, **common)
            assert (sent.send, sent.reason) == (True, None), kind
            stopped = decide(kind=kind, channel=channel, unsubscribed=True, rules=rules, **common)
            assert (stopped.send, stopped.reason) == (False, "unsubscribed"), kind
        for kind in MARKETING:
            held = decide(kind=kind, channel=channel, unsubscribed=False, rules=rules, **common)
            assert (held.send, held.reason) == (False, "no_consent"), kind
    assert {"welcome", "points_earned", "reward_redeemed", "transaction_reversed"} <= TRANSACTIONAL
    assert {"reward_affordable", "points_expiring"} == MARKETING


def test_newly_affordable_picks_the_best_reward_crossed():
    rewards = [
        RewardCost(name="coffee", cost=100),
        RewardCost(name="cake", cost=150),
        RewardCost(name="mug", cost=500),
    ]
    assert newly_affordable(rewards, 70, 160) == RewardCost(name="cake", cost=150)
    assert newly_affordable(rewards, 100, 140) is None  # coffee was already affordable
    assert newly_affordable(rewards, 99, 100) == RewardCost(name="coffee", cost=100)


def test_unsubscribe_tokens_round_trip_and_refuse_tampering():
    secret = b"s3cret"
    target = UnsubscribeTarget(tenant_id=uuid.uuid4(), member_id=uuid.uuid4(), mode="test", channel="sms")
    token = sign(secret, target)
    assert verify(secret, token) == target
    head, _, mac = token.partition(".")
    flipped = head[:-2] + ("A" if head[-2] != "A" else "B") + head[-1]
    for bad in (f"{flipped}.{mac}", f"{head}.{mac[:-1]}", token + "x", "nonsense", ""):
        with pytest.raises(InvalidUnsubscribeToken):
            verify(secret, bad)
    with pytest.raises(InvalidUnsubscribeToken):
        verify(b"other", token)


@pytest.mark.parametrize(
    ("given", "locale"), [("ar-SA", "ar"), ("AR", "ar"), ("en_GB", "en"), ("fr", "en"), (None, "en")]
)
def test_pick_locale(given, locale):
    assert pick_locale(given) == locale
