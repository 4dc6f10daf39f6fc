"""The outbox relay: moves committed outbox rows to RabbitMQ, then deletes them.

- Wakes on LISTEN/NOTIFY (delivered at commit) and polls every `poll_interval` as a fallback, since
  a notification sent while the listener was reconnecting is lost.
- One active relay per database: it holds a session-level advisory lock, so several worker replicas
  can run and only one publishes, in `seq` order (per-aggregate order follows).
- Publishes a batch with publisher confirms pipelined (every message of the batch in flight at once,
  then all confirms awaited): waiting for each confirm in turn caps near 1,200 msg/s on this machine.
  Messages are persistent, `message_id` = event id. Rows are deleted only after their confirm, so a
  crash between confirm and delete re-sends them (at-least-once; consumers dedupe on the event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractExchange, AbstractRobustConnection

from nujoomy_messaging.tables import NOTIFY_CHANNEL
from nujoomy_messaging.topology import Topology

log = structlog.get_logger("nujoomy.relay")

_FETCH = "SELECT seq, event_id, routing_key, body FROM outbox ORDER BY seq LIMIT $1"
_DELETE = "DELETE FROM outbox WHERE seq = ANY($1::bigint[])"

OnConfirmed = Callable[[Sequence[Any], float], None]


def _lock_key(name: str) -> int:
    # A stable 63-bit key per relay name; advisory locks are database-wide.
    return zlib.crc32(f"nujoomy-relay:{name}".encode()) & 0x7FFFFFFF


class OutboxRelay:
    def __init__(
        self,
        *,
        database_url: str,
        amqp_url: str,
        topology: Topology,
        name: str = "outbox",
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retry_backoff: float = 1.0,
        on_confirmed: OnConfirmed | None = None,
    ) -> None:
        self._dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        self._amqp_url = amqp_url
        self._topology = topology
        self._name = name
        self._batch = batch_size
        self._poll = poll_interval
        self._backoff = retry_backoff
        self._on_confirmed = on_confirmed
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.published = 0
        self.is_leader = False

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Run until stop(); survives database and broker outages with a bounded backoff."""
        delay = self._backoff
        while not self._stopping.is_set():
            try:
                await self._session()
                delay = self._backoff
            except Exception as exc:  # the relay outlives any outage; it logs and retries with backoff
                log.warning("relay_retrying", error=repr(exc), in_seconds=delay)
            if self._stopping.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, 10.0)

    async def _session(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn, timeout=5)
        amqp: AbstractRobustConnection | None = None
        try:
            if not await self._lead(conn):
                return
            await conn.add_listener(NOTIFY_CHANNEL, self._notified)
            amqp = await aio_pika.connect_robust(self._amqp_url, timeout=5)
            channel = await amqp.channel(publisher_confirms=True)
            exchange = await self._topology.declare_exchange(channel)
            log.info("relay_started", relay=self._name)
            while not self._stopping.is_set():
                sent = await self._drain_once(conn, exchange)
                if sent < self._batch:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll)
        finally:
            self.is_leader = False
            if amqp is not None:
                with contextlib.suppress(Exception):
                    await amqp.close()
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _lead(self, conn: asyncpg.Connection) -> bool:
        """Take the relay lock or wait (bounded) to become leader when the holder goes away."""
        key = _lock_key(self._name)
        while not self._stopping.is_set():
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                self.is_leader = True
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll * 2)
        return False

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _drain_once(self, conn: asyncpg.Connection, exchange: AbstractExchange) -> int:
        rows = await conn.fetch(_FETCH, self._batch)
        if not rows:
            return 0
        publishes = [
            exchange.publish(
                aio_pika.Message(
                    body=row["body"],
                    message_id=str(row["event_id"]),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    content_type="application/json",
                    type=row["routing_key"],
                ),
                routing_key=row["routing_key"],
                timeout=30,
            )
            for row in rows
        ]
        results = await asyncio.gather(*publishes, return_exceptions=True)
        confirmed_at = time.time()
        ok = [
            row["seq"] for row, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)
        ]
        failed = [res for res in results if isinstance(res, BaseException)]
        if ok:
            await conn.execute(_DELETE, ok)
            self.published += len(ok)
            if self._on_confirmed is not None:
                self._on_confirmed([r for r in rows if r["seq"] in set(ok)], confirmed_at)
        if failed:
            # Leave the unconfirmed rows for the next session; they are sent again in seq order.
            raise aio_pika.exceptions.AMQPError(f"{len(failed)} publishes not confirmed: {failed[0]!r}")
        return len(rows)
