"""Verified API keys, cached in process and invalidated across replicas through Redis pub/sub.

A revoke or roll publishes the key's hash on a channel every replica subscribes to, so a revoked
key stops working within a second everywhere. When the subscription drops the whole cache is
cleared (an invalidation may have been missed) and entries also expire after `ttl` seconds, which
bounds staleness if Redis is down for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime

import msgspec
import redis.asyncio as redis
import structlog
from nujoomy_kit.ids import encode_id
from nujoomy_kit.tokens import Principal
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_partner_gateway.db.tables import api_keys, tenant_limits
from nujoomy_partner_gateway.domain.errors import InvalidApiKey
from nujoomy_partner_gateway.domain.keys import MalformedKey, Mode, parse_key

log = structlog.get_logger("nujoomy.gateway.keys")


class KeyRecord(msgspec.Struct, frozen=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    mode: Mode
    scopes: tuple[str, ...]
    rate: float | None
    burst: int | None
    max_in_flight: int | None
    tenant_rate: float | None  # the tenant plane's aggregate policy (tenant_limits); None: defaults
    tenant_burst: int | None
    expires_at: datetime | None
    # Derived once per cache fill rather than on every request: the public `key_…` id and the
    # principal the partner's handlers and the internal token are built from.
    public_id: str
    tenant_public_id: str
    principal: Principal


def invalidation_channel(prefix: str) -> str:
    return f"{prefix}gateway:api-keys:invalidate"


async def publish_invalidation(client: redis.Redis, prefix: str, sha256: str) -> None:
    await client.publish(invalidation_channel(prefix), sha256)


class KeyStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: redis.Redis, prefix: str) -> None:
        self._sessions = sessions
        self._redis = client
        self._prefix = prefix
        self._cache: dict[str, tuple[float, KeyRecord]] = {}
        self._used: set[uuid.UUID] = set()
        self.ttl = 60.0
        self.subscribed = asyncio.Event()

    async def verify(self, secret: str) -> KeyRecord:
        try:
            parsed = parse_key(secret)
        except MalformedKey as exc:
            raise InvalidApiKey(f"The API key is malformed ({exc})") from exc
        hit = self._cache.get(parsed.sha256)
        now = time.monotonic()
        if hit is None or now - hit[0] > self.ttl:
            record = await self._load(parsed.sha256)
            if record is None:
                raise InvalidApiKey("The API key is not recognised or has been revoked")
            self._cache[parsed.sha256] = (now, record)
        else:
            record = hit[1]
        if record.expires_at is not None and record.expires_at <= datetime.now(UTC):
            raise InvalidApiKey("The API key was rolled and its grace period is over")
        self._used.add(record.id)
        return record

    async def _load(self, sha256: str) -> KeyRecord | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(
                        api_keys,
                        tenant_limits.c.rate.label("tenant_rate"),
                        tenant_limits.c.burst.label("tenant_burst"),
                    )
                    .select_from(
                        api_keys.outerjoin(
                            tenant_limits,
                            (tenant_limits.c.tenant_id == api_keys.c.tenant_id)
                            & (tenant_limits.c.mode == api_keys.c.mode),
                        )
                    )
                    .where(api_keys.c.sha256 == sha256, api_keys.c.revoked_at.is_(None))
                )
            ).first()
        if row is None:
            return None
        public_id = encode_id("key", row.id)
        scopes = tuple(row.scopes)
        return KeyRecord(
            id=row.id,
            tenant_id=row.tenant_id,
            mode=row.mode,
            scopes=scopes,
            rate=row.rate,
            burst=row.burst,
            max_in_flight=row.max_in_flight,
            tenant_rate=row.tenant_rate,
            tenant_burst=row.tenant_burst,
            expires_at=row.expires_at,
            public_id=public_id,
            tenant_public_id=encode_id("ten", row.tenant_id),
            principal=Principal(
                kind="internal",
                tenant_id=row.tenant_id,
                mode=row.mode,
                key_id=public_id,
                scopes=scopes,
                subject=public_id,
            ),
        )

    def forget(self, sha256: str) -> None:
        self._cache.pop(sha256, None)

    async def listen(self) -> None:
        """Apply invalidations from every replica until cancelled; resubscribe after a failure."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(invalidation_channel(self._prefix))
                self._cache.clear()  # anything could have been revoked while we were not listening
                self.subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.forget(message["data"].decode())
            except (redis.RedisError, OSError) as exc:
                self.subscribed.clear()
                log.warning("key_invalidation_subscription_lost", error=repr(exc))
                await asyncio.sleep(1)
            finally:
                # Bounded: closing a pubsub whose read was just cancelled can wait on its connection
                # forever, which once hung an app's shutdown.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), 2)

    async def flush_last_used(self) -> None:
        """last_used_at is written in batches: one UPDATE per interval, not one per request."""
        if not self._used:
            return
        ids, self._used = list(self._used), set()
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(api_keys).where(api_keys.c.id.in_(ids)).values(last_used_at=datetime.now(UTC))
            )

    async def flush_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush_last_used()
            except Exception as exc:  # a failed flush loses a timestamp, never a request
                log.warning("last_used_flush_failed", error=repr(exc))
