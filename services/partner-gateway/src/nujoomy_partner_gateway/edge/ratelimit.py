"""GCRA (the generic cell rate algorithm) per API key in one Redis Lua call, on Redis's clock.

One round trip and one key per API key; the script reads TIME itself so every replica agrees on
"now" (replica clocks drift; Redis's is the single reference). The stored value is the theoretical
arrival time (TAT) in microseconds. The delay tolerance is `burst * T` beyond the first emission
interval (the GCRA/redis-cell convention): from an idle key `burst + 1` requests pass at once, then
one per emission interval T.

A POST carrying an `Idempotency-Key` claims its idempotency record in the same call: the claim is
made only when the limiter lets the request through (a refused request never claims a key), and
when the record already exists the script returns it, so the edge costs one round trip either way.
"""

from __future__ import annotations

import msgspec
import redis.asyncio as redis

from nujoomy_partner_gateway.domain.ratelimit import Decision, Policy

# KEYS[1] = the key's TAT; KEYS[2] (optional) = an idempotency record to claim.
# ARGV[1] = emission interval T (µs), ARGV[2] = burst, ARGV[3] = the in-flight marker, ARGV[4] = its TTL (ms).
# Returns {allowed, remaining, retry_after_us, reset_us, existing record or false}.
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local tolerance = emission * (tonumber(ARGV[2]) + 1)
-- TAT is stored with %.0f: Lua's default number format (%.14g) would round a µs timestamp.
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, 0, allow_at - now, tat - now, false}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
local remaining = math.floor((tolerance - (new_tat - now)) / emission)
local existing = false
if KEYS[2] then
  if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then
    existing = redis.call('GET', KEYS[2]) or ARGV[3]
  end
end
return {1, remaining, 0, new_tat - now, existing}
"""


class Claim(msgspec.Struct, frozen=True):
    """An idempotency record to claim if the request is let through."""

    key: str
    marker: bytes
    ttl_ms: int


class RateLimiter:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._script = client.register_script(GCRA_LUA)
        self._prefix = prefix

    def tat_key(self, key_id: str) -> str:
        # The key id in braces is a Redis Cluster hash tag: this key and the key's idempotency
        # records share a slot, so one script may touch both.
        return f"{self._prefix}gateway:gcra:{{{key_id}}}"

    async def check(
        self, key_id: str, policy: Policy, claim: Claim | None = None
    ) -> tuple[Decision, bytes | None]:
        """The limiter's decision and, when `claim` was given and the request let through, the
        record already holding that idempotency key (None: this request now owns it)."""
        keys = [self.tat_key(key_id)]
        args: list[int | bytes] = [policy.emission_us, policy.burst]
        if claim is not None:
            keys.append(claim.key)
            args += [claim.marker, claim.ttl_ms]
        allowed, remaining, retry_after, reset, existing = await self._script(keys=keys, args=args)
        decision = Decision(
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after_us=int(retry_after),
            reset_us=int(reset),
        )
        return decision, existing or None
