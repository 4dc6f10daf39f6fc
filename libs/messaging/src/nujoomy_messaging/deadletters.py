"""Inspecting and replaying a consumer's dead-letter queue (used by `nujoomy dlq …`).

Messages are taken with basic.get and held unacked while we work, so the ones not chosen are put
back (nack + requeue) only at the end and never read twice in one pass.
"""

from __future__ import annotations

import contextlib

import aio_pika
import msgspec
from aio_pika.abc import AbstractIncomingMessage

from nujoomy_messaging.consumer import ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER
from nujoomy_messaging.topology import Topology


class DeadLetter(msgspec.Struct):
    message_id: str | None
    type: str | None
    attempts: int
    failed_at: str | None
    error: str | None
    body: str


async def _take_all(queue: aio_pika.abc.AbstractQueue, limit: int) -> list[AbstractIncomingMessage]:
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            break
        taken.append(message)
    return taken


def _describe(message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    return DeadLetter(
        message_id=message.message_id,
        type=message.type,
        attempts=int(str(headers.get(ATTEMPT_HEADER, 0) or 0)) + 1,
        failed_at=str(headers.get(FAILED_AT_HEADER)) if headers.get(FAILED_AT_HEADER) else None,
        error=str(headers.get(ERROR_HEADER)) if headers.get(ERROR_HEADER) else None,
        body=message.body.decode("utf-8", "replace"),
    )


async def count(amqp_url: str, topology: Topology, consumer: str) -> int:
    connection = await aio_pika.connect(amqp_url, timeout=5)
    try:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(topology.dlq(consumer), passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def inspect(amqp_url: str, topology: Topology, consumer: str, limit: int = 100) -> list[DeadLetter]:
    connection = await aio_pika.connect(amqp_url, timeout=5)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.dlq(consumer), passive=True)
        taken = await _take_all(queue, limit)
        letters = [_describe(m) for m in taken]
        for m in taken:
            await m.nack(requeue=True)
        return letters
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


async def replay(
    amqp_url: str,
    topology: Topology,
    consumer: str,
    message_ids: set[str] | None = None,
    limit: int = 100_000,
) -> int:
    """Send dead letters (all, or those with the given ids) back to the consumer's queue, attempt 0."""
    connection = await aio_pika.connect(amqp_url, timeout=5)
    replayed = 0
    try:
        channel = await connection.channel()
        publish = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(topology.dlq(consumer), passive=True)
        taken = await _take_all(queue, limit)
        for message in taken:
            if message_ids is not None and message.message_id not in message_ids:
                continue
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-nujoomy-")}
            await publish.default_exchange.publish(
                aio_pika.Message(
                    body=message.body,
                    headers=headers,
                    message_id=message.message_id,
                    type=message.type,
                    content_type=message.content_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=topology.queue(consumer),
                timeout=30,
            )
            await message.ack()
            replayed += 1
        for message in taken:
            if not message.processed:
                await message.nack(requeue=True)
        return replayed
    finally:
        with contextlib.suppress(Exception):
            await connection.close()
