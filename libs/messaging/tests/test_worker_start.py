"""A worker started (or restarted) while the broker is away waits for it instead of exiting: under
Kubernetes or `make up` an exit is a restart loop, and in the whole-system suite workers restarted
mid-outage died at start-up (aiormq ends a handshake cut by the peer with StopAsyncIteration)."""

from __future__ import annotations

import asyncio
import random
from urllib.parse import urlparse

from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_messaging import ConsumerSpec, Topology, Worker
from nujoomy_testing import TcpProxy


async def _ignore(session: object, envelope: object) -> None:
    return None


async def test_a_worker_started_during_a_broker_outage_waits_and_then_consumes(
    service_b: str, amqp_url: str, topology: Topology
) -> None:
    parsed = urlparse(amqp_url)
    proxy = await TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5672).start()
    engine = make_engine(service_b, pool_size=2)
    worker = Worker(
        service="late",
        database_url=service_b,
        amqp_url=proxy.url_for(amqp_url),
        topology=topology,
        sessions=make_sessionmaker(engine),
        consumers=[ConsumerSpec(name="late.things", routing_keys=("late.thing",), handler=_ignore)],
        relay_poll=0.2,
    )
    proxy.drop()  # every connection is accepted and cut at once, as by a restarting broker
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(2)  # several connection attempts fail meanwhile
        assert not task.done(), task.exception() if task.done() else None
        assert not worker.started.is_set()
        # Then the broker flaps while the worker connects: cuts land mid-handshake and mid-declare.
        flaps = random.Random(7)
        for _ in range(40):
            proxy.restore()
            await asyncio.sleep(flaps.uniform(0.01, 0.12))
            proxy.drop()
            await asyncio.sleep(flaps.uniform(0.01, 0.05))
            assert not task.done(), task.exception() if task.done() else None
        proxy.restore()
        await asyncio.wait_for(worker.started.wait(), 30)
        assert [c.spec.name for c in worker.consumers] == ["late.things"]
    finally:
        worker.stop()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 15)
        await proxy.close()
        await engine.dispose()
