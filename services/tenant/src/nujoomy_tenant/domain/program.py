"""Program rules: earn rule, expiry policy, rewards, and what makes a branding version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from nujoomy_tenant.domain.errors import InvalidProgram, InvalidRewardCost

PROGRAM_TYPES = ("points", "stamps")
EXPIRY_KINDS = ("never", "months_after_earn", "end_of_nth_month")
MAX_POINTS_PER_UNIT = 10_000
MAX_EXPIRY_MONTHS = 120
MAX_POINTS_PER_EARN = 1_000_000  # the ledger's own ceiling on one earn


def program_type(value: str) -> str:
    if value not in PROGRAM_TYPES:
        raise InvalidProgram("type", "type is points or stamps")
    return value


def points_per_unit(value: int) -> int:
    if not 1 <= value <= MAX_POINTS_PER_UNIT:
        raise InvalidProgram("earn_rule.points_per_unit", f"points_per_unit is 1..{MAX_POINTS_PER_UNIT}")
    return value


def max_per_transaction(value: int | None) -> int | None:
    """A staff member's earn above this needs a manager; the ledger never grants more than
    MAX_POINTS_PER_EARN in one earn anyway."""
    if value is not None and not 1 <= value <= MAX_POINTS_PER_EARN:
        raise InvalidProgram(
            "earn_rule.max_per_transaction", f"max_per_transaction is 1..{MAX_POINTS_PER_EARN} or null"
        )
    return value


def minimum_spend(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise InvalidProgram("earn_rule.minimum_spend", "minimum_spend is a decimal string") from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidProgram("earn_rule.minimum_spend", "minimum_spend is zero or more")
    return str(amount)


def expiry(kind: str, months: int) -> tuple[str, int]:
    if kind not in EXPIRY_KINDS:
        raise InvalidProgram("expiry.kind", f"expiry.kind is one of {', '.join(EXPIRY_KINDS)}")
    if kind == "never":
        return kind, 0
    if not 1 <= months <= MAX_EXPIRY_MONTHS:
        raise InvalidProgram("expiry.months", f"expiry.months is 1..{MAX_EXPIRY_MONTHS} for {kind}")
    return kind, months


def reward_cost(value: int) -> int:
    if value <= 0:
        raise InvalidRewardCost("cost", "A reward costs at least 1 point or stamp")
    return value


def reward_limit(field: str, value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise InvalidProgram(field, f"{field} is at least 1 when given")
    return value


def active_window(active_from: datetime | None, active_until: datetime | None) -> None:
    if active_from and active_until and active_until <= active_from:
        raise InvalidProgram("active_until", "active_until is after active_from")


def text(field: str, value: str, maximum: int) -> str:
    value = value.strip()
    if len(value) > maximum:
        raise InvalidProgram(field, f"{field} has at most {maximum} characters")
    return value


def required_text(field: str, value: str, maximum: int) -> str:
    value = text(field, value, maximum)
    if not value:
        raise InvalidProgram(field, f"{field} is required")
    return value


def branding_version(colors: tuple[str, str, str], images: Mapping[str, str]) -> str:
    """A short digest of what a card looks like: renderers cache per version, so it must change exactly
    when colours or images change (and not when, say, a reward is renamed)."""
    canonical = json.dumps({"colors": list(colors), "images": dict(sorted(images.items()))})
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
