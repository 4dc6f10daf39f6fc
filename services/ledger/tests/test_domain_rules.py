"""Given/when/then of the ledger's pure rules (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ledger_helpers import reward
from nujoomy_ledger.domain.cards import looks_like_card, new_card_token, normalise
from nujoomy_ledger.domain.earning import check_currency, parse_amount, points_for_amount
from nujoomy_ledger.domain.errors import (
    BelowMinimumSpend,
    CurrencyMismatch,
    IdempotencyConflict,
    InvalidAmount,
    NotReversible,
    ReversalWindowPassed,
    RewardLimitReached,
    RewardUnavailable,
    UnknownCurrency,
)
from nujoomy_ledger.domain.expiry import expires_at, notice_due
from nujoomy_ledger.domain.idempotency import check_replay, first_difference
from nujoomy_ledger.domain.reversal import Original, reversal_plan
from nujoomy_ledger.domain.rewards import Taken, affordable, check_reward

NOW = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def test_points_are_per_whole_unit_rounded_down() -> None:
    assert (
        points_for_amount(Decimal("12.99"), program_type="points", points_per_unit=10, minimum_spend=None)
        == 120
    )
    assert points_for_amount(Decimal("1"), program_type="points", points_per_unit=3, minimum_spend=None) == 3


def test_below_the_minimum_spend_earns_nothing_and_says_so() -> None:
    with pytest.raises(BelowMinimumSpend):
        points_for_amount(Decimal("4.99"), program_type="points", points_per_unit=1, minimum_spend="5.00")
    with pytest.raises(BelowMinimumSpend):
        points_for_amount(Decimal("0.50"), program_type="points", points_per_unit=1, minimum_spend=None)


def test_a_stamps_program_earns_per_visit_whatever_the_amount() -> None:
    assert points_for_amount(Decimal("250"), program_type="stamps", points_per_unit=1, minimum_spend="3") == 1


@pytest.mark.parametrize("value", ["-1", "0", "abc", "NaN", "Infinity", "1000000.01", "1.00001", "1e9"])
def test_absurd_amounts_are_refused(value: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(value)


def test_currency_must_exist_and_match_the_program() -> None:
    check_currency("EUR", "EUR")
    with pytest.raises(UnknownCurrency):
        check_currency("XYZ", "EUR")
    with pytest.raises(CurrencyMismatch):
        check_currency("USD", "EUR")


def test_expiry_months_after_earn_clamps_to_the_month_end() -> None:
    assert expires_at("months_after_earn", 1, NOW, "UTC") == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    assert expires_at("never", 0, NOW) is None


def test_expiry_end_of_nth_month_is_local_midnight() -> None:
    paris = expires_at("end_of_nth_month", 0, datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "Europe/Paris")
    # 23:30 UTC on Jan 31 is already February in Paris: the end of February, Paris time.
    assert paris is not None
    assert paris.astimezone(UTC) == datetime(2026, 2, 28, 22, 59, 59, 999999, tzinfo=UTC)


def test_expiring_notice_window() -> None:
    assert notice_due(NOW + timedelta(days=3), NOW, 14)
    assert not notice_due(NOW + timedelta(days=30), NOW, 14)
    assert not notice_due(NOW - timedelta(days=1), NOW, 14)


def test_replay_with_a_different_request_names_the_field() -> None:
    original = {"kind": "earn", "member_id": "m", "points": 10, "reference": "a"}
    check_replay(original, dict(original))
    assert first_difference(original, {**original, "points": 11}) == "points"
    with pytest.raises(IdempotencyConflict) as caught:
        check_replay(original, {**original, "kind": "redeem", "points": 11})
    assert caught.value.extra == {"field": "kind"}  # the name only: no values of either request


def test_reversing_an_earn_may_go_negative_a_redeem_may_not() -> None:
    earn = reversal_plan(
        Original(kind="earn", points=50, created_at=NOW),
        now=NOW,
        window=timedelta(minutes=30),
        may_reverse_any_age=False,
    )
    assert (earn.points, earn.system, earn.lots, earn.allow_negative) == (
        -50,
        "issuance",
        "void_source",
        True,
    )
    spend = reversal_plan(
        Original(kind="redeem", points=-20, created_at=NOW),
        now=NOW,
        window=timedelta(minutes=30),
        may_reverse_any_age=False,
    )
    assert (spend.points, spend.system, spend.lots, spend.allow_negative) == (
        20,
        "redemption",
        "restore_source",
        False,
    )


def test_reversals_and_expiries_are_not_reversible_and_old_ones_need_a_manager() -> None:
    with pytest.raises(NotReversible):
        reversal_plan(
            Original(kind="reverse", points=5, created_at=NOW),
            now=NOW,
            window=timedelta(),
            may_reverse_any_age=True,
        )
    old = Original(kind="earn", points=5, created_at=NOW - timedelta(hours=2))
    with pytest.raises(ReversalWindowPassed):
        reversal_plan(old, now=NOW, window=timedelta(minutes=30), may_reverse_any_age=False)
    assert reversal_plan(old, now=NOW, window=timedelta(minutes=30), may_reverse_any_age=True).points == -5


def test_reward_window_and_limits() -> None:
    limited = reward(
        limit_per_day=1, active_from=NOW - timedelta(days=1), active_until=NOW + timedelta(days=1)
    )
    check_reward(limited, NOW, Taken())
    with pytest.raises(RewardLimitReached):
        check_reward(limited, NOW, Taken(day=1, week=1, month=1))
    with pytest.raises(RewardUnavailable):
        check_reward(limited, NOW + timedelta(days=2), Taken())
    with pytest.raises(RewardUnavailable):
        check_reward(reward(active=False), NOW, Taken())
    assert [r.name for r in affordable([reward(cost=100), reward(name="Big", cost=900)], 150, NOW)] == [
        "Coffee"
    ]


def test_card_tokens_are_prefixed_random_and_recognisable() -> None:
    tokens = {new_card_token() for _ in range(1000)}
    assert len(tokens) == 1000
    token = tokens.pop()
    assert looks_like_card(token)
    assert len(token) == 30
    assert normalise(token.lower()) == token
    assert not looks_like_card("4006381333931")
