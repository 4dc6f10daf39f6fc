"""When to try a webhook delivery again, and what an attempt's outcome means."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Literal

import msgspec

# Seconds before attempt n+1 (attempt 1 is immediate): ~0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2  # ±20 %, so endpoints that failed together do not retry together
FAILING_DISABLE_AFTER = timedelta(days=5)
EXCERPT_CHARS = 500

Verdict = Literal["succeeded", "retry", "failed", "gone"]


class Outcome(msgspec.Struct, frozen=True):
    verdict: Verdict
    next_attempt_at: datetime | None


def delay_before(attempt: int, schedule: tuple[float, ...], rng: random.Random | None = None) -> float | None:
    """Seconds to wait before attempt number `attempt` (1-based); None when the schedule is spent."""
    if attempt > len(schedule):
        return None
    base = schedule[attempt - 1]
    if base <= 0:
        return 0.0
    return base * (1 + (rng or random).uniform(-JITTER, JITTER))


def judge(status: int | None, attempts_made: int, now: datetime, schedule: tuple[float, ...]) -> Outcome:
    """`status` None means no HTTP answer (timeout, refused, blocked address)."""
    if status is not None and 200 <= status < 300:
        return Outcome("succeeded", None)
    if status == 410:
        return Outcome("gone", None)
    delay = delay_before(attempts_made + 1, schedule)
    if delay is None:
        return Outcome("failed", None)
    return Outcome("retry", now + timedelta(seconds=delay))


def failing_too_long(failing_since: datetime | None, now: datetime, limit: timedelta) -> bool:
    return failing_since is not None and now - failing_since >= limit


def excerpt(body: bytes) -> str:
    return body[:EXCERPT_CHARS].decode("utf-8", errors="replace")
