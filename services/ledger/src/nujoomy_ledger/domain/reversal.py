"""What reversing a transaction posts.

A reversal is a new transaction with the opposite postings that references the original; nothing is
edited. Reversing an earn after some of its points were spent is allowed to take the balance below
zero: the purchase was refunded, so the points were never really earned, and refusing the refund
would let a customer keep points for goods they returned. The negative balance is paid back by later
earns. Every other spend (redeem, reserve, negative adjust) keeps the balance at zero or above.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import msgspec

from nujoomy_ledger.domain.errors import NotReversible, ReversalWindowPassed

SystemAccount = Literal["issuance", "redemption", "expiry", "adjustment"]
LotEffect = Literal["new", "consume", "void_source", "restore_source", "expire", "none"]


class Original(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    points: int
    created_at: datetime


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """What ledger_post is asked to do."""

    points: int
    system: SystemAccount
    lots: LotEffect
    allow_negative: bool
    lifetime: int


def reversal_plan(
    original: Original,
    *,
    now: datetime,
    window: timedelta,
    may_reverse_any_age: bool,
) -> Plan:
    if original.kind in ("reverse", "expire"):
        raise NotReversible(f"A {original.kind} transaction cannot be reversed", kind=original.kind)
    if not may_reverse_any_age and now - original.created_at > window:
        minutes = int(window.total_seconds() // 60)
        raise ReversalWindowPassed(
            f"Transactions older than {minutes} minutes need a manager", window_minutes=minutes
        )
    if original.kind == "earn":
        return Plan(
            points=-original.points,
            system="issuance",
            lots="void_source",
            allow_negative=True,
            lifetime=-original.points,
        )
    if original.kind == "redeem":
        return Plan(
            points=-original.points,
            system="redemption",
            lots="restore_source",
            allow_negative=False,
            lifetime=0,
        )
    # adjust: undo a credit like an earn, a debit like a redeem.
    if original.points > 0:
        return Plan(
            points=-original.points,
            system="adjustment",
            lots="void_source",
            allow_negative=True,
            lifetime=-original.points,
        )
    return Plan(
        points=-original.points, system="adjustment", lots="restore_source", allow_negative=False, lifetime=0
    )
