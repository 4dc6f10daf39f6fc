"""GCRA rate-limit policies and the IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers).

Two policies apply to every partner request: the key's own and the tenant's, an aggregate over all
of a tenant's keys in one mode (so more keys do not mean more traffic). Both are operator settings
(the `nujoomy keys limits` commands), never the tenant's. The limiter itself is one Redis Lua call
(edge/ratelimit.py); this module holds the pure parts: the policies and how a decision is written
as headers.
"""

from __future__ import annotations

import functools
import math

import msgspec

from nujoomy_partner_gateway.domain.keys import Mode

KEY_POLICY = "key"
TENANT_POLICY = "tenant"


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
    policy: str  # the policy reported: the one that refused, or the one nearer its limit
    allowed: bool
    remaining: int
    retry_after_us: int
    reset_us: int


DEFAULTS: dict[Mode, Policy] = {"live": Policy(rate=100, burst=200), "test": Policy(rate=25, burst=25)}
# A tenant's keys together: a few keys' worth, so one integration per branch fits and a tenant
# cannot multiply its budget by creating keys.
TENANT_DEFAULTS: dict[Mode, Policy] = {
    "live": Policy(rate=300, burst=600),
    "test": Policy(rate=50, burst=50),
}


@functools.lru_cache(maxsize=4096)
def policy_for(mode: Mode, rate: float | None, burst: int | None) -> Policy:
    base = DEFAULTS[mode]
    return Policy(rate=rate or base.rate, burst=burst or base.burst)


@functools.lru_cache(maxsize=4096)
def tenant_policy_for(mode: Mode, rate: float | None, burst: int | None) -> Policy:
    base = TENANT_DEFAULTS[mode]
    return Policy(rate=rate or base.rate, burst=burst or base.burst)


@functools.lru_cache(maxsize=4096)
def policy_header(key: Policy, tenant: Policy) -> bytes:
    return ", ".join(
        f'"{name}";q={p.quota};w={p.window_seconds}'
        for name, p in ((KEY_POLICY, key), (TENANT_POLICY, tenant))
    ).encode()


def ratelimit_header(decision: Decision) -> str:
    reset = max(0, math.ceil(decision.reset_us / 1_000_000))
    return f'"{decision.policy}";r={max(0, decision.remaining)};t={reset}'


def retry_after_seconds(decision: Decision) -> int:
    return max(1, math.ceil(decision.retry_after_us / 1_000_000))
