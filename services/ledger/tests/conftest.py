from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from nujoomy_contracts.tenant import Program
from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_ledger.app import build_app
from nujoomy_ledger.settings import Settings, load
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# --import-mode=importlib puts nothing on sys.path; the tests share ledger_helpers.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ledger_helpers import Api, program, project

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture
async def db_url(make_db: MakeDb) -> str:
    return await make_db("ledger", MIGRATIONS)


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


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
async def client(settings: Settings, tokens: TestTokens) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=build_app(settings, verifier=tokens.verifier())) as client:
        yield client


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url, pool_size=5)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def tenant() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
async def points_program(sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID) -> Program:
    prog = program(tenant)
    await project(sessions, prog, "live")
    await project(sessions, prog, "test")
    return prog


@pytest.fixture
def api(client: Any, tokens: TestTokens, tenant: uuid.UUID, points_program: Program) -> Api:
    return Api(client, tokens, tenant)
