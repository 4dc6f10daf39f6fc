"""Whether a member may take a reward now: its window, its active flag and its per-member limits.

Limits count this member's redemptions (and pending reservations) of the reward in the current UTC
day, ISO week and calendar month.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from nujoomy_contracts.tenant import Reward

from nujoomy_ledger.domain.errors import RewardLimitReached, RewardUnavailable


class Taken(msgspec.Struct, frozen=True, kw_only=True):
    """How many times this member took the reward in the current day, week and month."""

    day: int = 0
    week: int = 0
    month: int = 0


def check_reward(reward: Reward, now: datetime, taken: Taken) -> None:
    if not reward.active:
        raise RewardUnavailable("This reward is not active", reward=reward.name)
    if reward.active_from is not None and now < reward.active_from:
        raise RewardUnavailable(
            "This reward is not available yet", reward=reward.name, active_from=reward.active_from.isoformat()
        )
    if reward.active_until is not None and now >= reward.active_until:
        raise RewardUnavailable(
            "This reward is no longer available",
            reward=reward.name,
            active_until=reward.active_until.isoformat(),
        )
    for period, limit, count in (
        ("day", reward.limit_per_day, taken.day),
        ("week", reward.limit_per_week, taken.week),
        ("month", reward.limit_per_month, taken.month),
    ):
        if limit is not None and count >= limit:
            raise RewardLimitReached(
                f"This reward can be taken {limit} time(s) per {period}", period=period, limit=limit
            )


def affordable(rewards: list[Reward], available: int, now: datetime) -> list[Reward]:
    """Rewards the scanner can offer right now (limits are checked when one is chosen)."""
    return [
        r
        for r in rewards
        if r.active
        and r.cost <= available
        and (r.active_from is None or r.active_from <= now)
        and (r.active_until is None or now < r.active_until)
    ]
