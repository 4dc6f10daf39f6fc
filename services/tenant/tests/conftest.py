from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_tenant.app import build_app
from nujoomy_tenant.domain import passwords
from nujoomy_tenant.settings import Settings, load
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens

# --import-mode=importlib puts nothing on sys.path; the tests share tenant_helpers.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tenant_helpers import Business, create_business

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture
async def db_url(make_db: MakeDb) -> str:
    return await make_db("tenant", MIGRATIONS)


@pytest.fixture
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
def settings(
    db_url: str, amqp_url: str, redis_url: str, topology: Topology, redis_prefix: str, tokens: TestTokens
) -> Settings:
    return load(
        {},
        database_url=db_url,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
        # The in-process test client's peer address; lets tests play a gateway forwarding client IPs.
        trusted_proxies=["testclient"],
        public_url="https://loyalty.example",
        # Cheap argon2 for speed; the production cost is a setting, the behaviour is the same.
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=build_app(settings)) as client:
        yield client


@pytest.fixture(autouse=True)
def _cheap_password_hashing() -> None:
    # Businesses made directly through provisioning (before any app is built) hash cheaply too.
    passwords.configure(time_cost=1, memory_kib=1024)


@pytest.fixture
async def acme(db_url: str) -> Business:
    return await create_business(db_url, "acme")


@pytest.fixture
async def globex(db_url: str) -> Business:
    return await create_business(db_url, "globex")
