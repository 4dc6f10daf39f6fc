"""An event written with a business row in service A's transaction reaches a consumer in service B
exactly once — across relay crashes, broker outages, failing handlers and dead-letter replays."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import pytest
from nujoomy_contracts import Envelope, new_envelope
from nujoomy_contracts.ledger import MEMBER_ERASED, MemberErased
from nujoomy_kit.db import make_engine, make_sessionmaker, plain_url
from nujoomy_messaging import ConsumerSpec, OutboxRelay, Topology, Worker, add_events, deadletters
from nujoomy_testing import TcpProxy, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TENANT = uuid.UUID("00000000-0000-7000-8000-000000000001")


class Rollback(Exception):
    pass


async def place_orders(db_url: str, ids: range | list[int], *, commit: bool = True) -> None:
    """Service A's business transaction: an order row and its event, together."""
    engine = make_engine(db_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            with contextlib.suppress(Rollback):
                async with sessions() as s, s.begin():
                    await s.execute(
                        text("INSERT INTO orders (id, note) SELECT unnest(CAST(:ids AS int[])), 'x'"),
                        {"ids": chunk},
                    )
                    await add_events(
                        s,
                        [
                            (
                                new_envelope(
                                    MEMBER_ERASED,
                                    MemberErased(member_id=uuid.UUID(int=i)),
                                    tenant_id=TENANT,
                                    mode="test",
                                ),
                                f"order:{i}",
                            )
                            for i in chunk
                        ],
                    )
                    if not commit:
                        raise Rollback
    finally:
        await engine.dispose()


async def apply_order(session: AsyncSession, event: Envelope[MemberErased]) -> None:
    await session.execute(
        text("INSERT INTO applied (event_id, order_id) VALUES (:e, :o)"),
        {"e": event.id, "o": event.data.member_id.int},
    )


async def applied(db_url: str) -> list[int]:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return [r[0] for r in await conn.fetch("SELECT order_id FROM applied")]
    finally:
        await conn.close()


async def outbox_size(db_url: str) -> int:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()


def exactly_once(rows: list[int], expected: set[int]) -> bool:
    counts = Counter(rows)
    return set(counts) == expected and all(c == 1 for c in counts.values())


@contextlib.asynccontextmanager
async def running_worker(
    db_url: str, amqp_url: str, topology: Topology, specs: list[ConsumerSpec]
) -> AsyncIterator[Worker]:
    engine = make_engine(db_url, pool_size=5)
    worker = Worker(
        service="b",
        database_url=db_url,
        amqp_url=amqp_url,
        topology=topology,
        sessions=make_sessionmaker(engine),
        consumers=specs,
        relay_poll=0.2,
    )
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.started.wait(), 15)
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)
        await engine.dispose()


@contextlib.asynccontextmanager
async def running_relay(db_url: str, amqp_url: str, topology: Topology) -> AsyncIterator[OutboxRelay]:
    relay = OutboxRelay(database_url=db_url, amqp_url=amqp_url, topology=topology, poll_interval=0.2)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        relay.stop()
        await asyncio.wait_for(task, 15)


def spec(handler=apply_order, delays=(100, 200, 400)) -> ConsumerSpec:
    return ConsumerSpec(
        name="b.orders", routing_keys=(MEMBER_ERASED,), handler=handler, retry_delays_ms=delays
    )


async def test_committed_event_arrives_once_and_rolled_back_one_never(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    async with (
        running_worker(service_b, amqp_url, topology, [spec()]),
        running_relay(service_a, amqp_url, topology) as relay,
    ):
        await place_orders(service_a, [1])
        await place_orders(service_a, [2], commit=False)
        await place_orders(service_a, [3])
        await eventually(lambda: applied(service_b), lambda rows: exactly_once(rows, {1, 3}))
        assert relay.published == 2
    assert await outbox_size(service_a) == 0
    assert exactly_once(await applied(service_b), {1, 3})


async def test_relay_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    total = 3000
    await place_orders(service_a, range(total))
    script = Path(__file__).parent / "relay_process.py"
    argv = [sys.executable, str(script), service_a, amqp_url, topology.exchange, topology.prefix, "50"]
    async with running_worker(service_b, amqp_url, topology, [spec()]):
        proc = subprocess.Popen(argv, env=os.environ.copy())
        try:
            await eventually(
                lambda: outbox_size(service_a), lambda n: n < total - 300, timeout=30, interval=0.01
            )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        left = await outbox_size(service_a)
        assert 0 < left < total, "the relay must be killed in the middle of the work"
        proc = subprocess.Popen(argv, env=os.environ.copy())
        try:
            await eventually(
                lambda: applied(service_b), lambda rows: len(set(rows)) == total, timeout=60, interval=0.1
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    assert exactly_once(await applied(service_b), set(range(total)))


async def test_broker_connection_dropped_and_back(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    parsed = urlparse(amqp_url)
    proxy = await TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5672).start()
    via_proxy = proxy.url_for(amqp_url)
    try:
        async with (
            running_worker(service_b, via_proxy, topology, [spec()]),
            running_relay(service_a, via_proxy, topology),
        ):
            await place_orders(service_a, range(200))
            await eventually(lambda: applied(service_b), lambda rows: len(rows) >= 50)
            proxy.drop()
            await place_orders(service_a, range(200, 400))  # written while the broker is unreachable
            await asyncio.sleep(1.5)  # an outage has to last a while to be an outage
            assert await outbox_size(service_a) > 0, "nothing can be relayed while the broker is gone"
            proxy.restore()
            await eventually(
                lambda: applied(service_b), lambda rows: len(set(rows)) == 400, timeout=60, interval=0.1
            )
    finally:
        await proxy.close()
    assert exactly_once(await applied(service_b), set(range(400)))


async def test_handler_failing_twice_succeeds_from_the_retry_queue(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    deliveries: Counter[uuid.UUID] = Counter()

    async def flaky(session: AsyncSession, event: Envelope[MemberErased]) -> None:
        deliveries[event.id] += 1
        if deliveries[event.id] <= 2:
            raise RuntimeError("downstream hiccup")
        await apply_order(session, event)

    async with (
        running_worker(service_b, amqp_url, topology, [spec(flaky)]),
        running_relay(service_a, amqp_url, topology),
    ):
        await place_orders(service_a, [7])
        await eventually(lambda: applied(service_b), lambda rows: rows == [7])
    assert list(deliveries.values()) == [3]
    assert await deadletters.count(amqp_url, topology, "b.orders") == 0


async def test_always_failing_handler_dead_letters_then_replay_applies_once(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    broken = True

    async def sometimes(session: AsyncSession, event: Envelope[MemberErased]) -> None:
        if broken:
            raise ValueError("template missing")
        await apply_order(session, event)

    async with (
        running_worker(service_b, amqp_url, topology, [spec(sometimes, (50, 50))]),
        running_relay(service_a, amqp_url, topology),
    ):
        await place_orders(service_a, [11, 12])
        await eventually(lambda: deadletters.count(amqp_url, topology, "b.orders"), lambda n: n == 2)
        letters = await deadletters.inspect(amqp_url, topology, "b.orders")
        assert {letter.attempts for letter in letters} == {3}
        assert all("template missing" in (letter.error or "") for letter in letters)
        assert await applied(service_b) == []

        broken = False
        first = letters[0].message_id
        assert await deadletters.replay(amqp_url, topology, "b.orders", {first}) == 1
        await eventually(lambda: applied(service_b), lambda rows: len(rows) == 1)
        assert await deadletters.count(amqp_url, topology, "b.orders") == 1
        assert await deadletters.replay(amqp_url, topology, "b.orders") == 1
        await eventually(lambda: applied(service_b), lambda rows: sorted(rows) == [11, 12])
        # Replaying again finds nothing: the queue is empty and the inbox would drop a duplicate anyway.
        assert await deadletters.replay(amqp_url, topology, "b.orders") == 0
    assert exactly_once(await applied(service_b), {11, 12})


@pytest.mark.parametrize("copies", [3])
async def test_redelivered_event_has_no_second_effect(
    service_b: str, sessions_b, amqp_url: str, topology: Topology, copies: int
) -> None:
    import aio_pika
    from nujoomy_contracts import encode_envelope

    event = new_envelope(
        MEMBER_ERASED, MemberErased(member_id=uuid.UUID(int=5)), tenant_id=TENANT, mode="live"
    )
    async with running_worker(service_b, amqp_url, topology, [spec()]):
        conn = await aio_pika.connect(amqp_url)
        channel = await conn.channel()
        exchange = await topology.declare_exchange(channel)
        for _ in range(copies):
            await exchange.publish(
                aio_pika.Message(encode_envelope(event), message_id=str(event.id)), routing_key=MEMBER_ERASED
            )
        await conn.close()
        await eventually(lambda: applied(service_b), lambda rows: rows == [5])
        async with sessions_b() as s:
            seen = await s.scalar(text("SELECT count(*) FROM inbox WHERE event_id = :e"), {"e": event.id})
        assert seen == 1
    assert await applied(service_b) == [5]
