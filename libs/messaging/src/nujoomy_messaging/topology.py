"""RabbitMQ topology.

- one durable topic exchange (`nujoomy.events`) that every outbox relay publishes to;
- per consumer purpose, a durable queue bound to the routing keys it wants;
- per consumer, retry queues `<queue>.retry.<n>`, each with a fixed TTL that dead-letters back into
  the consumer's queue through the default exchange (a queue-wide TTL keeps FIFO expiry exact);
- per consumer, a dead-letter queue `<queue>.dlq` that only the CLI drains (inspect, replay).

Tests give every topology its own prefix, so parallel tests never share a queue or an exchange.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import aio_pika
import msgspec
from aio_pika.abc import AbstractChannel

DEFAULT_RETRY_DELAYS_MS: tuple[int, ...] = (1_000, 5_000, 30_000, 120_000, 600_000)


class Topology(msgspec.Struct, frozen=True):
    exchange: str = "nujoomy.events"
    prefix: str = ""
    queue_type: Literal["classic", "quorum"] = "classic"

    def queue(self, consumer: str) -> str:
        return f"{self.prefix}{consumer}"

    def retry_queue(self, consumer: str, attempt: int) -> str:
        return f"{self.prefix}{consumer}.retry.{attempt}"

    def dlq(self, consumer: str) -> str:
        return f"{self.prefix}{consumer}.dlq"

    def _args(self) -> dict[str, Any]:
        return {"x-queue-type": self.queue_type}

    async def declare_exchange(self, channel: AbstractChannel) -> aio_pika.abc.AbstractExchange:
        return await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC, durable=True)

    async def declare_consumer(
        self,
        channel: AbstractChannel,
        consumer: str,
        routing_keys: Sequence[str],
        retry_delays_ms: Sequence[int] = DEFAULT_RETRY_DELAYS_MS,
    ) -> aio_pika.abc.AbstractQueue:
        """Declare (idempotently) everything a consumer needs; returns its main queue."""
        exchange = await self.declare_exchange(channel)
        main = await channel.declare_queue(self.queue(consumer), durable=True, arguments=self._args())
        for key in routing_keys:
            await main.bind(exchange, routing_key=key)
        for attempt, delay in enumerate(retry_delays_ms, start=1):
            await channel.declare_queue(
                self.retry_queue(consumer, attempt),
                durable=True,
                arguments={
                    **self._args(),
                    "x-message-ttl": int(delay),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue(consumer),
                },
            )
        await channel.declare_queue(self.dlq(consumer), durable=True, arguments=self._args())
        return main

    async def delete_consumer(self, channel: AbstractChannel, consumer: str, retries: int) -> None:
        names = [self.queue(consumer), self.dlq(consumer)]
        names += [self.retry_queue(consumer, n) for n in range(1, retries + 1)]
        for name in names:
            await channel.queue_delete(name)


def topology_from(exchange: str, prefix: str, queue_type: str) -> Topology:
    return Topology(
        exchange=exchange, prefix=prefix, queue_type="quorum" if queue_type == "quorum" else "classic"
    )
