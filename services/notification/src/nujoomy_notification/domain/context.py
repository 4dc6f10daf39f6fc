"""The variables each kind of message offers its template, and sample values for previews.

A template is validated against its kind's sample context at save time, so a variable the real
message will not have is refused then (StrictUndefined), never discovered when sending.
"""

from __future__ import annotations

from typing import Any

from nujoomy_notification.domain.kinds import Kind

COMMON = ("member_name", "tenant_name", "balance_label", "balance", "unsubscribe_url")

FIELDS: dict[Kind, tuple[str, ...]] = {
    "welcome": (*COMMON, "apple_pass_url", "google_save_url", "card_url"),
    "points_earned": (*COMMON, "points", "reference"),
    "reward_affordable": (*COMMON, "reward_name", "reward_cost"),
    "reward_redeemed": (*COMMON, "reward_name", "points"),
    "points_expiring": (*COMMON, "points", "expires_on"),
    "transaction_reversed": (*COMMON, "points", "reason"),
}

_SAMPLE: dict[str, Any] = {
    "member_name": "Layla",
    "tenant_name": "Qahwa House",
    "balance_label": "Points",
    "balance": 120,
    "unsubscribe_url": "https://example.invalid/unsubscribe/sample",
    "apple_pass_url": "https://example.invalid/apple/passes/sample",
    "google_save_url": "https://pay.google.com/gp/v/save/sample",
    "card_url": "https://example.invalid/cards/sample",
    "points": 15,
    "reference": "Order 1042",
    "reward_name": "Free coffee",
    "reward_cost": 100,
    "expires_on": "2026-12-31",
    "reason": "Refunded purchase",
}


# The samples a template's cost is measured with when it is saved: large numbers a real member can
# bring (a loop over `range(balance)` is cheap at 120 and not at 100,000). 100,000 is also the
# sandbox's `range` limit, so a loop over `range(balance * 2)` fails differently there (and is
# ignored: only the cost is measured); 10,000 catches it.
DEMANDING_NUMBERS = (10_000, 100_000)


def sample_context(kind: Kind) -> dict[str, Any]:
    return {name: _SAMPLE[name] for name in FIELDS[kind]}


def demanding_contexts(kind: Kind) -> list[dict[str, Any]]:
    numbers = ("balance", "points", "reward_cost")
    return [
        {name: n if name in numbers else _SAMPLE[name] for name in FIELDS[kind]} for n in DEMANDING_NUMBERS
    ]


def build_context(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    """Exactly the kind's variables; a missing one renders as an empty string, not an error."""
    return {name: "" if values.get(name) is None else values[name] for name in FIELDS[kind]}
