"""A request pacer shared by every replica: each request reserves the next free slot, slots are
1/rate apart, and the caller sleeps until its slot. So the requests leave at most `rate` per second
in total, however many replicas run, and none is refused for it (Google answers 429 otherwise).

The state is one timestamp per quota key — the theoretical arrival time (GCRA without burst) — kept
in Redis (one script call per request, the server's clock) or PostgreSQL (one upsert, the
database's clock), or in-process for a single replica. A 429 from Google pauses the key for
everyone (`pause`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class Pacer(Protocol):
    async def wait(self) -> None:
        """Reserve the next slot and sleep until it."""

    async def pause(self, seconds: float) -> None:
        """No slot before `seconds` from now, for every replica."""


class LocalPacer:
    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._tat = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(self._tat, now)
        self._tat = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def pause(self, seconds: float) -> None:
        self._tat = max(self._tat, time.monotonic() + seconds)


# KEYS[1] the quota key; ARGV[1] the interval in microseconds, ARGV[2] a pause in microseconds (0 to
# reserve). Returns the microseconds to wait for the reserved slot.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local pause = tonumber(ARGV[2])
if pause > 0 then
  tat = math.max(tat, now + pause)
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
  return 0
end
local slot = math.max(tat, now)
local nxt = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return slot - now
"""


class RedisPacer:
    def __init__(self, redis: Any, key: str, rate: float) -> None:
        self.redis = redis
        self.key = key
        self.interval_us = int(1_000_000 / rate)
        self._script = redis.register_script(_RESERVE)

    async def wait(self) -> None:
        wait_us = int(await self._script(keys=[self.key], args=[self.interval_us, 0]))
        if wait_us > 0:
            await asyncio.sleep(wait_us / 1_000_000)

    async def pause(self, seconds: float) -> None:
        await self._script(keys=[self.key], args=[self.interval_us, int(seconds * 1_000_000)])

    async def aclose(self) -> None:
        await self.redis.aclose()


_PG_RESERVE = text(
    "INSERT INTO google_quota (key, tat) VALUES (:k, clock_timestamp() + make_interval(secs => :i)) "
    "ON CONFLICT (key) DO UPDATE SET tat = GREATEST(google_quota.tat, clock_timestamp()) "
    "+ make_interval(secs => :i) "
    "RETURNING EXTRACT(EPOCH FROM (tat - clock_timestamp()))::float8 - :i"
)
_PG_PAUSE = text(
    "INSERT INTO google_quota (key, tat) VALUES (:k, clock_timestamp() + make_interval(secs => :s)) "
    "ON CONFLICT (key) DO UPDATE SET tat = GREATEST(google_quota.tat, excluded.tat)"
)


class PostgresPacer:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], key: str, rate: float) -> None:
        self.sessions = sessions
        self.key = key
        self.interval = 1.0 / rate

    async def wait(self) -> None:
        async with self.sessions() as db, db.begin():
            wait = float((await db.execute(_PG_RESERVE, {"k": self.key, "i": self.interval})).scalar_one())
        if wait > 0:
            await asyncio.sleep(wait)

    async def pause(self, seconds: float) -> None:
        async with self.sessions() as db, db.begin():
            await db.execute(_PG_PAUSE, {"k": self.key, "s": seconds})


def build_pacer(
    kind: str, rate: float, key: str, *, redis_url: str, sessions: async_sessionmaker[AsyncSession]
) -> Pacer:
    if kind == "redis":
        import redis.asyncio as redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        return RedisPacer(client, key, rate)
    if kind == "postgres":
        return PostgresPacer(sessions, key, rate)
    if kind == "local":
        return LocalPacer(rate)
    raise ValueError(f"google_pacer must be redis, postgres or local, not {kind!r}")
