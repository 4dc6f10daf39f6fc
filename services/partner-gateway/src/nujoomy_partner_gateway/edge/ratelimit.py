"""GCRA (the generic cell rate algorithm) per API key and per tenant in one Redis Lua call, on Redis's clock.

One round trip: the script reads TIME itself so every replica agrees on "now" (replica clocks
drift; Redis's is the single reference). Each stored value is a theoretical arrival time (TAT) in
microseconds. The delay tolerance is `burst * T` beyond the first emission interval (the
GCRA/redis-cell convention): from an idle key `burst + 1` requests pass at once, then one per
emission interval T. A request passes only if both the key's and the tenant's policy let it, and
only then are both advanced, so a refusal by one costs the other nothing.

A POST carrying an `Idempotency-Key` claims its idempotency record in the same call: the claim is
made only when the limiter lets the request through (a refused request never claims a key), and
when the record already exists the script returns it, so the edge costs one round trip either way.
"""

from __future__ import annotations

import msgspec
import redis.asyncio as redis

from nujoomy_partner_gateway.domain.ratelimit import KEY_POLICY, TENANT_POLICY, Decision, Policy

# KEYS[1] = the key's TAT, KEYS[2] = the tenant's TAT; KEYS[3] (optional) = an idempotency record to claim.
# ARGV[1], ARGV[2] = the key's emission interval T (µs) and burst; ARGV[3], ARGV[4] = the tenant's;
# ARGV[5] = the in-flight marker, ARGV[6] = its TTL (ms).
# Returns {allowed, remaining, retry_after_us, reset_us, existing record or false, policy (1 key, 2 tenant)}.
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function gcra(key, emission, burst)
  local tolerance = emission * (burst + 1)
  -- TAT is stored with %.0f: Lua's default number format (%.14g) would round a µs timestamp.
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + emission
  return tat, new_tat, new_tat - tolerance, math.floor((tolerance - (new_tat - now)) / emission)
end
local k_tat, k_new, k_allow, k_left = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if k_allow > now then
  return {0, 0, k_allow - now, k_tat - now, false, 1}
end
local t_tat, t_new, t_allow, t_left = gcra(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
if t_allow > now then
  return {0, 0, t_allow - now, t_tat - now, false, 2}
end
redis.call('SET', KEYS[1], string.format('%.0f', k_new), 'PX', math.ceil((k_new - now) / 1000) + 1000)
redis.call('SET', KEYS[2], string.format('%.0f', t_new), 'PX', math.ceil((t_new - now) / 1000) + 1000)
local existing = false
if KEYS[3] then
  if not redis.call('SET', KEYS[3], ARGV[5], 'NX', 'PX', ARGV[6]) then
    existing = redis.call('GET', KEYS[3]) or ARGV[5]
  end
end
if t_left < k_left then
  return {1, t_left, 0, t_new - now, existing, 2}
end
return {1, k_left, 0, k_new - now, existing, 1}
"""

_POLICIES = {1: KEY_POLICY, 2: TENANT_POLICY}


class Claim(msgspec.Struct, frozen=True):
    """An idempotency record to claim if the request is let through."""

    key: str
    marker: bytes
    ttl_ms: int


class RateLimiter:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._script = client.register_script(GCRA_LUA)
        self._prefix = prefix

    def tat_keys(self, tenant_id: str, mode: str, key_id: str) -> list[str]:
        # The tenant id in braces is a Redis Cluster hash tag: the key's TAT, the tenant plane's
        # TAT and the key's idempotency records share a slot, so one script may touch all three.
        base = f"{self._prefix}gateway:gcra:{{{tenant_id}}}"
        return [f"{base}:{key_id}", f"{base}:{mode}"]

    async def check(
        self,
        *,
        tenant_id: str,
        mode: str,
        key_id: str,
        key: Policy,
        tenant: Policy,
        claim: Claim | None = None,
    ) -> tuple[Decision, bytes | None]:
        """The limiter's decision and, when `claim` was given and the request let through, the
        record already holding that idempotency key (None: this request now owns it)."""
        keys = self.tat_keys(tenant_id, mode, key_id)
        args: list[int | bytes] = [key.emission_us, key.burst, tenant.emission_us, tenant.burst]
        if claim is not None:
            keys.append(claim.key)
            args += [claim.marker, claim.ttl_ms]
        allowed, remaining, retry_after, reset, existing, policy = await self._script(keys=keys, args=args)
        decision = Decision(
            policy=_POLICIES[int(policy)],
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after_us=int(retry_after),
            reset_us=int(reset),
        )
        return decision, existing or None
