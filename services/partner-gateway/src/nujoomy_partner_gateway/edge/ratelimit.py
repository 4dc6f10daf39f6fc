"""GCRA (the generic cell rate algorithm) per API key in one Redis Lua call, on Redis's clock.

One round trip and one key per API key; the script reads TIME itself so every replica agrees on
"now" (replica clocks drift; Redis's is the single reference). The stored value is the theoretical
arrival time (TAT) in microseconds. From an idle key exactly `burst` requests pass at once, then
one per emission interval.
"""

from __future__ import annotations

import redis.asyncio as redis

from nujoomy_partner_gateway.domain.ratelimit import Decision, Policy

# KEYS[1] = the key's TAT; ARGV[1] = emission interval T (µs), ARGV[2] = burst.
# Returns {allowed, remaining, retry_after_us, reset_us}.
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = emission * burst
-- TAT is stored with %.0f: Lua's default number format (%.14g) would round a µs timestamp.
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - tolerance
if allow_at > now then
  local remaining = 0
  return {0, remaining, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
local remaining = math.floor((tolerance - (new_tat - now)) / emission)
return {1, remaining, 0, new_tat - now}
"""


class RateLimiter:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._script = client.register_script(GCRA_LUA)
        self._prefix = prefix

    async def check(self, key_id: str, policy: Policy) -> Decision:
        allowed, remaining, retry_after, reset = await self._script(
            keys=[f"{self._prefix}gateway:gcra:{key_id}"], args=[policy.emission_us, policy.burst]
        )
        return Decision(
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after_us=int(retry_after),
            reset_us=int(reset),
        )
