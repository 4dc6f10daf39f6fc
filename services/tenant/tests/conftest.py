from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_tenant.app import build_app
from nujoomy_tenant.settings import Settings, load
from nujoomy_testing.plugin import MakeDb

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture
async def db_url(make_db: MakeDb) -> str:
    return await make_db("tenant", MIGRATIONS)


@pytest.fixture
def settings(db_url: str, amqp_url: str, redis_url: str, topology: Topology, redis_prefix: str) -> Settings:
    return load(
        {},
        database_url=db_url,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=build_app(settings)) as client:
        yield client
