"""pytest plugin (auto-loaded through the `pytest11` entry point): real services, isolated per test.

- PostgreSQL: one template database per service per xdist worker, migrated once; each test gets a
  fresh `CREATE DATABASE … TEMPLATE …` clone (full isolation, real commits, LISTEN/NOTIFY works),
  dropped afterwards.
- RabbitMQ: each test gets a `Topology` with its own exchange and queue prefix; queues and exchanges
  with this session's prefix are deleted when the session ends.
- Redis: each test gets its own key prefix; its keys are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from nujoomy_kit.db import plain_url, run_migrations, with_database
from nujoomy_messaging.topology import Topology

from nujoomy_testing.services import resolve, stop_containers

SESSION_TAG = uuid.uuid4().hex[:8]
_counter = itertools.count()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    yield resolve("postgres")
    stop_containers()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return resolve("amqp")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return resolve("redis")


class DatabaseFactory:
    """Creates migrated databases for a service: template once, then cheap clones."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._templates: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self.created: list[str] = []

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(plain_url(self.admin_url))

    async def template(self, service: str, migrations: Path) -> str:
        async with self._lock:
            if service in self._templates:
                return self._templates[service]
            name = f"tmpl_{service.replace('-', '_')}_{_worker()}_{SESSION_TAG}"
            conn = await self._admin()
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()
            await asyncio.to_thread(run_migrations, migrations, with_database(self.admin_url, name))
            self._templates[service] = name
            self.created.append(name)
            return name

    async def clone(self, service: str, migrations: Path) -> str:
        template = await self.template(service, migrations)
        name = f"t_{service.replace('-', '_')}_{_worker()}_{SESSION_TAG}_{next(_counter)}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await conn.close()
        self.created.append(name)
        return with_database(self.admin_url, name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", maxsplit=1)[0]
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def drop_all(self) -> None:
        conn = await self._admin()
        try:
            for name in reversed(self.created):
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def database_factory(pg_url: str) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(pg_url)
    yield factory
    await factory.drop_all()


MakeDb = Callable[[str, Path], Awaitable[str]]


@pytest.fixture
async def make_db(database_factory: DatabaseFactory) -> AsyncIterator[MakeDb]:
    """`url = await make_db("ledger", MIGRATIONS)`: a fresh migrated database for this test."""
    made: list[str] = []

    async def make(service: str, migrations: Path) -> str:
        url = await database_factory.clone(service, migrations)
        made.append(url)
        return url

    yield make
    for url in made:
        await database_factory.drop(url)


def _session_prefix() -> str:
    return f"t{SESSION_TAG}{_worker()}."


@pytest.fixture
def topology() -> Topology:
    prefix = f"{_session_prefix()}{next(_counter)}."
    return Topology(exchange=f"{prefix}events", prefix=prefix)


@pytest.fixture(scope="session", autouse=True)
def _rabbit_cleanup() -> Iterator[None]:
    yield
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return
    prefix = _session_prefix()
    for kind in ("queues", "exchanges"):
        try:
            out = subprocess.run(  # noqa: S603 - fixed argv, local admin tool
                [ctl, "-q", f"list_{kind}", "name"], capture_output=True, text=True, timeout=60, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return
        names = [n.strip() for n in out.splitlines() if n.strip().startswith(prefix)]
        if names:
            asyncio.run(_delete_amqp(kind, names))


async def _delete_amqp(kind: str, names: list[str]) -> None:
    import aio_pika

    conn = await aio_pika.connect(resolve("amqp"))
    try:
        channel = await conn.channel()
        for name in names:
            if kind == "queues":
                await channel.queue_delete(name)
            else:
                await channel.exchange_delete(name)
    finally:
        await conn.close()


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    import redis.asyncio as redis

    prefix = f"t{SESSION_TAG}:{next(_counter)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
