from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_messaging import ConsumerSpec, Topology, Worker
from nujoomy_testing import TcpProxy
from nujoomy_testing.plugin import MakeDb

MIGRATIONS = Path(__file__).parent / "migrations"


@pytest.fixture
async def service_a(make_db: MakeDb) -> str:
    return await make_db("msgtest", MIGRATIONS)


@pytest.fixture
async def service_b(make_db: MakeDb) -> str:
    return await make_db("msgtest", MIGRATIONS)


@pytest.fixture
async def sessions_b(service_b: str):
    engine = make_engine(service_b, pool_size=5)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _ignore(session: object, envelope: object) -> None:
    return None


@dataclass
class ProxiedWorker:
    """A worker with one consumer (`proxied.things`, ignoring what it gets) that reaches the broker
    through `proxy`, which the test cuts and restores. Not running until `run()`; stopped after the test."""

    worker: Worker
    proxy: TcpProxy
    task: asyncio.Task[None] | None = None

    def run(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self.worker.run())
        return self.task


@pytest.fixture
async def proxied_worker(service_b: str, amqp_url: str, topology: Topology) -> AsyncIterator[ProxiedWorker]:
    parsed = urlparse(amqp_url)
    proxy = await TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5672).start()
    engine = make_engine(service_b, pool_size=2)
    worker = Worker(
        service="proxied",
        database_url=service_b,
        amqp_url=proxy.url_for(amqp_url),
        topology=topology,
        sessions=make_sessionmaker(engine),
        consumers=[ConsumerSpec(name="proxied.things", routing_keys=("proxied.thing",), handler=_ignore)],
        relay_poll=0.2,
    )
    proxied = ProxiedWorker(worker, proxy)
    try:
        yield proxied
    finally:
        worker.stop()
        try:
            if proxied.task is not None:
                await asyncio.wait_for(proxied.task, 15)  # a worker that failed fails the test
        finally:
            await proxy.close()
            await engine.dispose()
