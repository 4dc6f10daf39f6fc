from __future__ import annotations

from pathlib import Path

import pytest
from nujoomy_kit.db import make_engine, make_sessionmaker
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
