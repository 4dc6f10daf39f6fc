"""GCRA rate-limit policy and the IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers).

The limiter itself is one Redis Lua call (edge/ratelimit.py); this module holds the pure parts:
the per-key policy and how a decision is written as headers.
"""

from __future__ import annotations

import functools
import math

import msgspec

from nujoomy_partner_gateway.domain.keys import Mode

POLICY_NAME = "key"


class Policy(msgspec.Struct, frozen=True):
    rate: float  # requests per second, sustained
    burst: int  # requests allowed at once from an idle key beyond the first (GCRA tolerance / T)

    @property
    def quota(self) -> int:
        """Requests an idle key lets through at once: one emission interval plus the burst tolerance."""
        return self.burst + 1

    @property
    def emission_us(self) -> int:
        """The GCRA emission interval T in microseconds."""
        return max(1, round(1_000_000 / self.rate))

    @property
    def window_seconds(self) -> int:
        """The time an emptied key needs to earn its whole quota back: the policy's window `w`."""
        return max(1, math.ceil(self.quota / self.rate))


class Decision(msgspec.Struct, frozen=True):
    allowed: bool
    remaining: int
    retry_after_us: int
    reset_us: int


DEFAULTS: dict[Mode, Policy] = {"live": Policy(rate=100, burst=200), "test": Policy(rate=25, burst=25)}


@functools.lru_cache(maxsize=4096)
def policy_for(mode: Mode, rate: float | None, burst: int | None) -> Policy:
    base = DEFAULTS[mode]
    return Policy(rate=rate or base.rate, burst=burst or base.burst)


@functools.lru_cache(maxsize=4096)
def policy_header(policy: Policy) -> bytes:
    return f'"{POLICY_NAME}";q={policy.quota};w={policy.window_seconds}'.encode()


def ratelimit_header(decision: Decision) -> str:
    reset = max(0, math.ceil(decision.reset_us / 1_000_000))
    return f'"{POLICY_NAME}";r={max(0, decision.remaining)};t={reset}'


def retry_after_seconds(decision: Decision) -> int:
    return max(1, math.ceil(decision.retry_after_us / 1_000_000))
