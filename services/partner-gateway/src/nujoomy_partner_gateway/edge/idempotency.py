"""Idempotency records in Redis: claimed with SET NX before the request runs, completed after."""

from __future__ import annotations

import msgspec
import redis.asyncio as redis

from nujoomy_partner_gateway.domain.idempotency import IN_FLIGHT_TTL_MS, RECORD_TTL_MS, Record

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Record).decode


class IdempotencyStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def key(self, key_id: str, mode: str, method: str, route: str, idempotency_key: str) -> str:
        # Scope (BRIEF §6): the API key, its mode, the method and the route; the same partner
        # string on another route is another record.
        return f"{self._prefix}gateway:idem:{key_id}:{mode}:{method}:{route}:{idempotency_key}"

    async def claim(self, key: str, fingerprint: str) -> Record | None:
        """None when this request now owns the key; otherwise the record already there."""
        marker = Record(state="in_flight", fingerprint=fingerprint)
        if await self._redis.set(key, _encode(marker), nx=True, px=IN_FLIGHT_TTL_MS):
            return None
        raw = await self._redis.get(key)
        if raw is None:  # expired between the two calls: behave as in flight, the client retries
            return marker
        return _decode(raw)

    async def complete(self, key: str, record: Record) -> None:
        await self._redis.set(key, _encode(record), px=RECORD_TTL_MS)

    async def release(self, key: str) -> None:
        await self._redis.delete(key)
