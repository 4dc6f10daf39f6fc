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
from nujoomy_testing.servers import served
from web_stack import Business, Stack, create_business, full_stack, gateway_app

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
        db_pool_size=2,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
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
        db_pool_size=2,  # the shared PostgreSQL serves every team's suites
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
        **tokens.service_settings("partner-gateway"),
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


@pytest.fixture(scope="session")
def wallet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nujoomy_wallet_pass import devcerts

    return devcerts.generate(tmp_path_factory.mktemp("wallet"))


@pytest.fixture
async def stack(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
    wallet_dir: Path,
) -> AsyncIterator[Stack]:
    common = {
        "amqp_url": amqp_url,
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "db_pool_size": 2,
        "events_exchange": topology.exchange,
        "queue_prefix": topology.prefix,
        "internal_keyset": tokens.keyset,
        "member_link_private_key": tokens.member_link_private_pem,  # wallet-pass signs the links
    }
    async with full_stack(
        tenant_db=await make_db("tenant", TENANT_MIGRATIONS),
        ledger_db=await make_db("ledger", ROOT / "services" / "ledger" / "migrations"),
        wallet_db=await make_db("wallet-pass", ROOT / "services" / "wallet-pass" / "migrations"),
        common=common,
        wallet_dir=wallet_dir,
    ) as running:
        yield running


@pytest.fixture
async def stack_web(
    stack: Stack,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    settings = load_gateway(
        {},
        database_url=await make_db("partner-gateway", GATEWAY_MIGRATIONS),
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        db_pool_size=2,  # the shared PostgreSQL serves every team's suites
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
        **tokens.service_settings("partner-gateway"),
        tenant_url=stack.tenant_url,
        ledger_url=stack.ledger_url,
        wallet_pass_url=stack.wallet_pass_url,
        public_url="https://loyalty.example",
    )
    async with AsyncTestClient(app=gateway_app(settings), base_url="https://testserver.local") as client:
        yield client


@pytest.fixture(autouse=True)
def patient_bff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shared test machine runs every team's suites at once; a 5 s production timeout would turn
    # load into false "unavailable" answers here.
    monkeypatch.setenv("NUJOOMY_WEB_HTTP_TIMEOUT", "30")
