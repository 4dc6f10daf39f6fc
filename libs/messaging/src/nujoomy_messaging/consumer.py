"""Idempotent event consumers with retries and a dead-letter queue.

For each message a consumer, in one database transaction, inserts (consumer, event id) into the
inbox — a duplicate finds the row already there and is acked with no effect — and runs the handler,
which may write its own rows and outbox events. Commit, then ack. If the handler raises, the message
goes to the next retry queue (its TTL is the backoff) or, after the last, to the consumer's DLQ,
with the error in its headers; the republish is confirmed before the original is acked, so a crash
in between redelivers rather than loses it.

A failure because the consumer's own database cannot be reached (restart, failover) is not the
message's fault: it is retried without spending the message's attempts — through the retry queues,
but never past `OUTAGE_LEVEL` (30 s by default) and never into the DLQ — so an outage of any length
ends with every message applied, not with a dead-letter queue to replay.

RabbitMQ is consumed with aio-pika directly (not a FastStream subscriber) because FastStream 0.7's
RabbitMQ subscriber handles one message at a time; here up to `concurrency` messages are in flight.

Batching (opt-in, `ConsumerSpec.batch_handler` with `batch_size` > 1): messages are gathered for up
to `batch_linger` seconds or `batch_size` messages and applied in ONE transaction — one multi-row
inbox insert, one call of the batch handler with the envelopes that were new, one commit — then
acked. A batch whose transaction fails is applied again one message at a time through the ordinary
path (the per-message `handler`), so retries and dead-lettering stay per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
import msgspec
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from nujoomy_contracts import Envelope, decode_data, decode_envelope
from nujoomy_contracts.registry import UnknownEvent
from nujoomy_kit.db_errors import database_unavailable
from nujoomy_kit.logging import bind_context, clear_context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_messaging.topology import DEFAULT_RETRY_DELAYS_MS, Topology

log = structlog.get_logger("nujoomy.consumer")

Handler = Callable[[AsyncSession, Envelope[Any]], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[Envelope[Any]]], Awaitable[None]]

ATTEMPT_HEADER = "x-nujoomy-attempt"
ERROR_HEADER = "x-nujoomy-error"
CONSUMER_HEADER = "x-nujoomy-consumer"
FAILED_AT_HEADER = "x-nujoomy-failed-at"

# The deepest retry queue a database outage sends a message to (the third: 30 s by default), so
# messages come back within that long after the database does.
OUTAGE_LEVEL = 3

_INBOX = text(
    "INSERT INTO inbox (consumer, event_id) VALUES (:consumer, :event_id) ON CONFLICT DO NOTHING RETURNING 1"
)
_INBOX_MANY = text(
    "INSERT INTO inbox (consumer, event_id) SELECT :consumer, unnest(CAST(:event_ids AS uuid[])) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


class ConsumerSpec(msgspec.Struct, frozen=True):
    """One consumer purpose: a queue, what it binds, and the handler that applies an event."""

    name: str
    routing_keys: tuple[str, ...]
    handler: Handler
    retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS
    concurrency: int = 16
    # Events older than their aggregate's state are the handler's business (sequence/version checks).
    # Opt-in batching (see the module docstring); `handler` remains the per-message fallback.
    batch_handler: BatchHandler | None = None
    batch_size: int = 1
    batch_linger: float = 0.02

    @property
    def batching(self) -> bool:
        return self.batch_handler is not None and self.batch_size > 1


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help: the message goes straight to the DLQ."""


class EventConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        sessions: async_sessionmaker[AsyncSession],
        topology: Topology,
    ) -> None:
        self.spec = spec
        self._sessions = sessions
        self._topology = topology
        self._channel: AbstractChannel | None = None
        self._publish_channel: AbstractChannel | None = None
        self.processed = 0
        self.duplicates = 0
        self.failures = 0
        self._pending: list[AbstractIncomingMessage] = []
        self._pending_event = asyncio.Event()
        self._full_event = asyncio.Event()
        self._batcher: asyncio.Task[None] | None = None

    @property
    def queue_name(self) -> str:
        return self._topology.queue(self.spec.name)

    async def start(self, connection: AbstractRobustConnection) -> None:
        self._channel = await connection.channel()
        prefetch = self.spec.concurrency
        if self.spec.batching:
            # Room for the batch being applied and the next one filling up.
            prefetch = max(prefetch, 2 * self.spec.batch_size)
            self._batcher = asyncio.create_task(self._batch_loop(), name=f"batch:{self.spec.name}")
        await self._channel.set_qos(prefetch_count=prefetch)
        self._publish_channel = await connection.channel(publisher_confirms=True)
        # A queue from declare_queue on a robust channel is re-declared and re-consumed after the
        # connection comes back (get_queue(ensure=False) would not be).
        queue = await self._topology.declare_consumer(
            self._channel, self.spec.name, self.spec.routing_keys, self.spec.retry_delays_ms
        )
        await queue.consume(self._on_message)
        log.info("consumer_started", consumer=self.spec.name, queue=self.queue_name)

    async def stop(self) -> None:
        if self._batcher is not None:
            # Unacked messages of an unfinished batch are redelivered; the inbox drops any that
            # committed before the cancellation.
            self._batcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._batcher
        for ch in (self._channel, self._publish_channel):
            if ch is not None:
                with contextlib.suppress(Exception):
                    await ch.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if self._batcher is not None:
            self._pending.append(message)
            self._pending_event.set()
            if len(self._pending) >= self.spec.batch_size:
                self._full_event.set()
            return
        await self._handle_safely(message)

    async def _handle_safely(self, message: AbstractIncomingMessage) -> None:
        try:
            await self.handle(message)
        except Exception as exc:
            # Could not even route the failure (broker going away): leave it unacked; the broker
            # redelivers it to whoever consumes next.
            log.error("consumer_routing_failed", consumer=self.spec.name, error=repr(exc))
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)

    async def handle(self, message: AbstractIncomingMessage) -> None:
        attempt = int(str((message.headers or {}).get(ATTEMPT_HEADER, 0) or 0))
        try:
            envelope = self._decode(message.body)
        except (msgspec.DecodeError, msgspec.ValidationError, UnknownEvent) as exc:
            await self._dead_letter(message, attempt, exc)
            return
        bind_context(
            event_id=str(envelope.id),
            event_type=envelope.type,
            tenant_id=str(envelope.tenant_id),
            mode=envelope.mode,
            trace_id=envelope.traceparent,
        )
        try:
            applied = await self._apply(envelope)
        except PermanentError as exc:
            self.failures += 1
            await self._dead_letter(message, attempt, exc)
            return
        except Exception as exc:
            self.failures += 1
            await self._retry_or_dead_letter(message, attempt, exc)
            return
        finally:
            clear_context("event_id", "event_type", "tenant_id", "mode", "trace_id")
        if applied:
            self.processed += 1
        else:
            self.duplicates += 1
        await message.ack()

    async def _batch_loop(self) -> None:
        while True:
            await self._pending_event.wait()
            if len(self._pending) < self.spec.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full_event.wait(), self.spec.batch_linger)
            batch = self._pending[: self.spec.batch_size]
            del self._pending[: len(batch)]
            if len(self._pending) < self.spec.batch_size:
                self._full_event.clear()
            if not self._pending:
                self._pending_event.clear()
            try:
                await self._handle_batch(batch)
            except Exception as exc:  # never let the loop die: unacked messages would sit forever
                log.error("consumer_batch_loop_error", consumer=self.spec.name, error=repr(exc))
                for message in batch:
                    with contextlib.suppress(Exception):
                        await message.nack(requeue=True)

    async def _handle_batch(self, messages: list[AbstractIncomingMessage]) -> None:
        decoded: list[tuple[AbstractIncomingMessage, Envelope[Any]]] = []
        for message in messages:
            try:
                decoded.append((message, self._decode(message.body)))
            except (msgspec.DecodeError, msgspec.ValidationError, UnknownEvent):
                await self._handle_safely(message)  # the ordinary path dead-letters it
        if not decoded:
            return
        try:
            fresh = await self._apply_batch([envelope for _, envelope in decoded])
        except Exception as exc:
            log.warning(
                "consumer_batch_failed_applying_one_by_one",
                consumer=self.spec.name,
                size=len(decoded),
                error=repr(exc),
            )
            for message, _ in decoded:
                await self._handle_safely(message)
            return
        self.processed += fresh
        self.duplicates += len(decoded) - fresh
        for message, _ in decoded:
            try:
                await message.ack()
            except Exception as exc:  # the channel went away: the broker redelivers, the inbox dedupes
                log.error("consumer_ack_failed", consumer=self.spec.name, error=repr(exc))
                return

    async def _apply_batch(self, envelopes: list[Envelope[Any]]) -> int:
        assert self.spec.batch_handler is not None
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                _INBOX_MANY,
                {"consumer": self.spec.name, "event_ids": [envelope.id for envelope in envelopes]},
            )
            fresh_ids = {row[0] for row in result}
            fresh: dict[Any, Envelope[Any]] = {}
            for envelope in envelopes:
                if envelope.id in fresh_ids:
                    fresh.setdefault(envelope.id, envelope)  # one copy of an event sent twice
            if fresh:
                await self.spec.batch_handler(session, list(fresh.values()))
        return len(fresh)

    def _decode(self, body: bytes) -> Envelope[Any]:
        raw = decode_envelope(body)
        data = decode_data(raw.type, raw.version, raw.data)
        return Envelope(
            id=raw.id,
            type=raw.type,
            version=raw.version,
            occurred_at=raw.occurred_at,
            tenant_id=raw.tenant_id,
            mode=raw.mode,
            data=data,
            traceparent=raw.traceparent,
        )

    async def _apply(self, envelope: Envelope[Any]) -> bool:
        async with self._sessions() as session, session.begin():
            fresh = await session.execute(_INBOX, {"consumer": self.spec.name, "event_id": envelope.id})
            if fresh.first() is None:
                return False
            await self.spec.handler(session, envelope)
        return True

    async def _retry_or_dead_letter(
        self, message: AbstractIncomingMessage, attempt: int, exc: BaseException
    ) -> None:
        next_attempt = attempt + 1
        levels = len(self.spec.retry_delays_ms)
        if levels and database_unavailable(exc):
            next_attempt = min(next_attempt, OUTAGE_LEVEL, levels)
            log.warning("consumer_database_unavailable", consumer=self.spec.name, error=repr(exc))
        elif next_attempt > levels:
            await self._dead_letter(message, attempt, exc)
            return
        log.warning("consumer_retry", consumer=self.spec.name, attempt=next_attempt, error=repr(exc))
        await self._republish(
            message,
            self._topology.retry_queue(self.spec.name, next_attempt),
            {ATTEMPT_HEADER: next_attempt, ERROR_HEADER: _error_text(exc)},
        )

    async def _dead_letter(self, message: AbstractIncomingMessage, attempt: int, exc: BaseException) -> None:
        log.error("consumer_dead_letter", consumer=self.spec.name, attempts=attempt + 1, error=repr(exc))
        await self._republish(
            message,
            self._topology.dlq(self.spec.name),
            {
                ATTEMPT_HEADER: attempt,
                ERROR_HEADER: _error_text(exc),
                CONSUMER_HEADER: self.spec.name,
                FAILED_AT_HEADER: datetime.now(UTC).isoformat(),
            },
        )

    async def _republish(self, message: AbstractIncomingMessage, queue: str, headers: dict[str, Any]) -> None:
        assert self._publish_channel is not None
        await self._publish_channel.default_exchange.publish(
            aio_pika.Message(
                body=message.body,
                headers={**(message.headers or {}), **headers},
                message_id=message.message_id,
                type=message.type,
                content_type=message.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=queue,
            timeout=30,
        )
        await message.ack()


def _error_text(exc: BaseException) -> str:
    text_ = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text_[:1000]


async def start_consumers(
    connection: AbstractRobustConnection,
    specs: Sequence[ConsumerSpec],
    *,
    sessions: async_sessionmaker[AsyncSession],
    topology: Topology,
) -> list[EventConsumer]:
    consumers = [EventConsumer(s, sessions=sessions, topology=topology) for s in specs]
    await asyncio.gather(*(c.start(connection) for c in consumers))
    return consumers
