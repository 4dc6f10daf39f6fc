"""Idempotency records in Redis: claimed (SET NX, inside the rate limiter's script, edge/ratelimit.py)
before the request runs, completed or released after."""

from __future__ import annotations

import msgspec
import redis.asyncio as redis

from nujoomy_partner_gateway.domain.idempotency import IN_FLIGHT_TTL_MS, RECORD_TTL_MS, Record
from nujoomy_partner_gateway.edge.ratelimit import Claim

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Record).decode


class IdempotencyStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def key(
        self, *, tenant_id: str, key_id: str, mode: str, method: str, route: str, idempotency_key: str
    ) -> str:
        # Scope: the API key, its mode, the method and the route; the same partner string on
        # another route or from another key is another record. `{tenant_id}` is the hash tag the
        # rate limiter's keys share (one slot in Redis Cluster, so one script can claim it).
        return (
            f"{self._prefix}gateway:idem:{{{tenant_id}}}:{key_id}:{mode}:{method}:{route}:{idempotency_key}"
        )

    def claim(self, key: str) -> Claim:
        # Claimed before the body is read (the limiter's call), so the marker cannot hold the
        # request's fingerprint: a second request meeting it is "in use" whatever its body.
        marker = Record(state="in_flight", fingerprint="")
        return Claim(key=key, marker=_encode(marker), ttl_ms=IN_FLIGHT_TTL_MS)

    @staticmethod
    def decode(raw: bytes) -> Record:
        return _decode(raw)

    async def complete(self, key: str, record: Record) -> None:
        await self._redis.set(key, _encode(record), px=RECORD_TTL_MS)

    async def release(self, key: str) -> None:
        await self._redis.delete(key)
