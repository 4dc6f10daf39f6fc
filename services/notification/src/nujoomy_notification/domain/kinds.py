"""What messages exist, which channels carry them and which of them may wait out quiet hours."""

from __future__ import annotations

from typing import Literal, get_args

Kind = Literal[
    "welcome",
    "points_earned",
    "reward_affordable",
    "reward_redeemed",
    "points_expiring",
    "transaction_reversed",
]
Channel = Literal["email", "sms"]
Locale = Literal["en", "ar"]
Status = Literal["queued", "sent", "failed", "suppressed"]

KINDS: tuple[Kind, ...] = get_args(Kind)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
LOCALES: tuple[Locale, ...] = get_args(Locale)
RTL_LOCALES: frozenset[str] = frozenset({"ar"})

# Receipts answer something the customer just did at the counter: they go out at once, even at night.
# Nudges (a reward now affordable, points about to expire) wait for the morning.
URGENT: frozenset[Kind] = frozenset({"welcome", "points_earned", "reward_redeemed", "transaction_reversed"})


# Marketing: a nudge to come back (a reward now in reach, points about to expire). Only these need
# the customer's "news and offers" consent for the channel. Everything else is transactional — the
# welcome with the card links, receipts for what the customer just did — and follows from giving an
# address at enrolment; the customer still stops it per channel with the unsubscribe link every
# message carries.
MARKETING: frozenset[Kind] = frozenset({"reward_affordable", "points_expiring"})
TRANSACTIONAL: frozenset[Kind] = frozenset(KINDS) - MARKETING


def parse_kind(value: str) -> Kind | None:
    return next((k for k in KINDS if k == value), None)


def parse_channel(value: str) -> Channel | None:
    return next((c for c in CHANNELS if c == value), None)


def pick_locale(*candidates: str | None) -> Locale:
    """The first candidate we have templates for ("ar-SA" counts as "ar"); English otherwise."""
    for candidate in candidates:
        if not candidate:
            continue
        base = candidate.split("-", 1)[0].split("_", 1)[0].lower()
        for locale in LOCALES:
            if locale == base:
                return locale
    return "en"
