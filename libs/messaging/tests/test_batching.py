"""Opt-in batch consumption: many events applied in one transaction, still exactly once, and a
failing batch falls back to the ordinary one-message path (retries, dead letters)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

import aio_pika
from nujoomy_contracts import Envelope, encode_envelope, new_envelope
from nujoomy_contracts.ledger import MEMBER_ERASED, MemberErased
from nujoomy_messaging import ConsumerSpec, Topology, deadletters
from nujoomy_testing import eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .test_delivery import (
    TENANT,
    applied,
    apply_order,
    exactly_once,
    place_orders,
    running_relay,
    running_worker,
)


async def apply_orders(session: AsyncSession, events: Sequence[Envelope[MemberErased]]) -> None:
    await session.execute(
        text(
            "INSERT INTO applied (event_id, order_id) "
            "SELECT unnest(CAST(:e AS uuid[])), unnest(CAST(:o AS int[]))"
        ),
        {"e": [e.id for e in events], "o": [e.data.member_id.int for e in events]},
    )


def batch_spec(batch_handler, handler=apply_order, delays=(50, 50)) -> ConsumerSpec:  # type: ignore[no-untyped-def]
    return ConsumerSpec(
        name="b.orders",
        routing_keys=(MEMBER_ERASED,),
        handler=handler,
        batch_handler=batch_handler,
        batch_size=50,
        batch_linger=0.05,
        retry_delays_ms=delays,
    )


async def test_events_are_applied_in_batches_exactly_once(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    sizes: list[int] = []

    async def recording(session: AsyncSession, events: Sequence[Envelope[MemberErased]]) -> None:
        sizes.append(len(events))
        await apply_orders(session, events)

    async with (
        running_worker(service_b, amqp_url, topology, [batch_spec(recording)]),
        running_relay(service_a, amqp_url, topology),
    ):
        await place_orders(service_a, range(300))
        await eventually(lambda: applied(service_b), lambda rows: len(rows) >= 300)
    assert exactly_once(await applied(service_b), set(range(300)))
    assert max(sizes) > 1  # many events per transaction
    assert max(sizes) <= 50


async def test_a_failing_batch_is_applied_one_by_one_and_a_poisoned_event_dead_letters_alone(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    poisoned = 13

    async def fails_with_poison(session: AsyncSession, events: Sequence[Envelope[MemberErased]]) -> None:
        if any(e.data.member_id.int == poisoned for e in events):
            raise ValueError("poison")
        await apply_orders(session, events)

    async def one(session: AsyncSession, event: Envelope[MemberErased]) -> None:
        if event.data.member_id.int == poisoned:
            raise ValueError("poison")
        await apply_order(session, event)

    async with (
        running_worker(service_b, amqp_url, topology, [batch_spec(fails_with_poison, one)]),
        running_relay(service_a, amqp_url, topology),
    ):
        await place_orders(service_a, range(100))
        await eventually(lambda: deadletters.count(amqp_url, topology, "b.orders"), lambda n: n == 1)
        await eventually(lambda: applied(service_b), lambda rows: len(rows) >= 99)
    assert exactly_once(await applied(service_b), set(range(100)) - {poisoned})


async def test_copies_of_one_event_in_a_batch_apply_once(
    service_b: str, amqp_url: str, topology: Topology
) -> None:
    calls: Counter[uuid.UUID] = Counter()

    async def counting(session: AsyncSession, events: Sequence[Envelope[MemberErased]]) -> None:
        calls.update(e.id for e in events)
        await apply_orders(session, events)

    event = new_envelope(
        MEMBER_ERASED, MemberErased(member_id=uuid.UUID(int=5)), tenant_id=TENANT, mode="live"
    )
    async with running_worker(service_b, amqp_url, topology, [batch_spec(counting)]) as worker:
        conn = await aio_pika.connect(amqp_url)
        channel = await conn.channel()
        exchange = await topology.declare_exchange(channel)
        for _ in range(3):
            await exchange.publish(
                aio_pika.Message(encode_envelope(event), message_id=str(event.id)), routing_key=MEMBER_ERASED
            )
        await conn.close()
        await eventually(lambda: applied(service_b), lambda rows: rows == [5])
        consumer = worker.consumers[0]
        await eventually(lambda: _counted(consumer), lambda n: n == 3)
    assert await applied(service_b) == [5]
    assert calls == Counter({event.id: 1})


async def _counted(consumer) -> int:  # type: ignore[no-untyped-def]
    return int(consumer.processed + consumer.duplicates)
