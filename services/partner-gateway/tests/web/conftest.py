from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_partner_gateway.settings import Settings as GatewaySettings
from nujoomy_partner_gateway.settings import load as load_gateway
from nujoomy_tenant.app import build_app as build_tenant
from nujoomy_tenant.settings import load as load_tenant
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import Business, create_business, gateway_app, served  # noqa: E402

ROOT = Path(__file__).resolve().parents[4]
GATEWAY_MIGRATIONS = ROOT / "services" / "partner-gateway" / "migrations"
TENANT_MIGRATIONS = ROOT / "services" / "tenant" / "migrations"


@pytest.fixture
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
async def tenant_db(make_db: MakeDb) -> str:
    return await make_db("tenant", TENANT_MIGRATIONS)


@pytest.fixture
async def tenant_url(
    tenant_db: str, amqp_url: str, redis_url: str, topology: Topology, redis_prefix: str, tokens: TestTokens
) -> AsyncIterator[str]:
    settings = load_tenant(
        {},
        database_url=tenant_db,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix + "tenant:",
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_public_key=tokens.internal_public_pem,
    )
    async with served(build_tenant(settings)) as url:
        yield url


@pytest.fixture
async def web_settings(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
    tenant_url: str,
) -> GatewaySettings:
    return load_gateway(
        {},
        database_url=await make_db("partner-gateway", GATEWAY_MIGRATIONS),
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_public_key=tokens.internal_public_pem,
        internal_private_key=tokens.internal_private_pem,
        tenant_url=tenant_url,
        public_url="https://loyalty.example",
    )


@pytest.fixture
async def web(web_settings: GatewaySettings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    # https: the session cookies are Secure, so a client on http would (rightly) never send them back.
    async with AsyncTestClient(app=gateway_app(web_settings), base_url="https://testserver.local") as client:
        yield client


@pytest.fixture
async def acme(tenant_db: str) -> Business:
    return await create_business(tenant_db, "acme")
