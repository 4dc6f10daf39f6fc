from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings, load
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

Client = AsyncTestClient  # type: ignore[type-arg]
MakeKey = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
async def db_url(make_db: MakeDb) -> str:
    return await make_db("partner-gateway", MIGRATIONS)


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
        **tokens.service_settings("partner-gateway"),
        internal_keyset=tokens.keyset,
        dev_mode=True,  # webhook receivers in tests listen on 127.0.0.1
        log_json=False,
    )


@pytest.fixture
async def client(settings: Settings, tokens: TestTokens) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=build_app(settings, verifier=tokens.verifier())) as client:
        await listening(client)
        yield client


async def listening(client: Client) -> None:
    """Wait until the app hears key invalidations (a revoke published before that would be missed
    until the cache entry expires; a real replica is long past this point when a revoke happens)."""
    from nujoomy_testing import eventually

    keys = client.app.state["keys"]

    async def subscribed() -> bool:
        # The app runs on the test client's own loop: poll its flag rather than await its Event.
        return bool(keys.subscribed.is_set())

    await eventually(subscribed, bool, timeout=10)


@pytest.fixture
def tenant() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def make_key(client: Client, tokens: TestTokens, tenant: uuid.UUID, db_url: str) -> MakeKey:
    """Create a key the way the dashboard does: the internal API with a manager's staff token. Limits
    (rate, burst, max_in_flight) are an operator's setting, written straight to the key's row before
    its first use (the `nujoomy keys limits` command does the same and announces it)."""

    async def make(
        mode: str = "test",
        tenant_id: uuid.UUID | None = None,
        *,
        rate: float | None = None,
        burst: int | None = None,
        max_in_flight: int | None = None,
        **body: Any,
    ) -> str:
        staff = tokens.staff(tenant_id or tenant, role="manager")
        response = await client.post(
            "/internal/v1/api_keys",
            json={"name": "pos", **body},
            headers=tokens.headers(staff, mode=mode),  # type: ignore[arg-type]
        )
        assert response.status_code == 201, response.text
        secret = str(response.json()["secret"])
        if rate or burst or max_in_flight:
            await set_limits(db_url, secret, rate=rate, burst=burst, max_in_flight=max_in_flight)
        return secret

    return make


async def set_limits(db_url: str, secret: str, **limits: float | None) -> None:
    import asyncpg
    from nujoomy_kit.db import plain_url
    from nujoomy_partner_gateway.domain.keys import hash_key

    conn = await asyncpg.connect(plain_url(db_url))
    try:
        await conn.execute(
            "UPDATE api_keys SET rate = $2, burst = $3, max_in_flight = $4 WHERE sha256 = $1",
            hash_key(secret),
            limits["rate"],
            limits["burst"],
            limits["max_in_flight"],
        )
    finally:
        await conn.close()


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}
