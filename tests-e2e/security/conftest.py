"""The partner-facing stack, in process, over real PostgreSQL, RabbitMQ and Redis: the gateway (under
test through an ASGI client) in front of the REAL ledger and wallet-pass apps served on ephemeral
ports. Two tenants, two modes: `keys` holds an API key for each (tenant, mode) the probes need."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

# tests-e2e is no importable name (the hyphen): its shared modules are reached relatively. The
# probes import these from here too (COFFEE only for them).
from ..gateway_limits import raise_limits  # noqa: TID252
from ..programs import COFFEE, program, project_program  # noqa: F401, TID252

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = {
    s: ROOT / "services" / s / "migrations" for s in ("partner-gateway", "tenant", "ledger", "wallet-pass")
}
Client = AsyncTestClient  # type: ignore[type-arg]


class Keys(msgspec.Struct):
    owner: str  # tenant A, test mode: creates everything the probes aim at
    live: str  # tenant A, live mode
    other: str  # tenant B, test mode


class Stack(msgspec.Struct):
    gateway: Any  # the gateway's AsyncTestClient
    gateway_settings: Any
    ledger_url: str
    wallet_url: str
    ledger_db: str
    wallet_db: str
    wallet_settings: Any
    tenant: uuid.UUID
    other: uuid.UUID
    keys: Keys


SUITE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this directory is part of the security suite (`make security`, docs/security.md)."""
    for item in items:
        if SUITE in item.path.parents:
            item.add_marker(pytest.mark.security)


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
async def stack(
    tokens: TestTokens,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    from nujoomy_ledger.app import build_app as build_ledger
    from nujoomy_ledger.settings import load as load_ledger
    from nujoomy_partner_gateway.app import build_app as build_gateway
    from nujoomy_partner_gateway.settings import load as load_gateway
    from nujoomy_tenant.app import build_app as build_tenant
    from nujoomy_tenant.settings import load as load_tenant
    from nujoomy_wallet_pass import devcerts
    from nujoomy_wallet_pass.app import build_app as build_wallet
    from nujoomy_wallet_pass.settings import load as load_wallet

    common: dict[str, Any] = {
        "amqp_url": amqp_url,
        "redis_url": redis_url,
        "events_exchange": topology.exchange,
        "queue_prefix": topology.prefix,
        "internal_keyset": tokens.keyset,
        "log_json": False,
    }
    ledger_db = await make_db("ledger", MIGRATIONS["ledger"])
    wallet_db = await make_db("wallet-pass", MIGRATIONS["wallet-pass"])
    ledger = load_ledger(
        {},
        **common,
        **tokens.service_settings("ledger"),
        database_url=ledger_db,
        redis_prefix=redis_prefix + "l:",
    )
    env = devcerts.wallet_env(
        devcerts.generate(tmp_path / "wallet"),
        "https://127.0.0.1:9",
        "http://127.0.0.1:9/wo",
        "http://127.0.0.1:9/t",
    )
    wallet = load_wallet(
        env,
        **common,
        **tokens.service_settings("wallet-pass"),
        database_url=wallet_db,
        redis_prefix=redis_prefix + "w:",
        public_url="https://loyalty.example",
    )
    tenant_settings = load_tenant(
        {},
        **common,
        database_url=await make_db("tenant", MIGRATIONS["tenant"]),
        redis_prefix=redis_prefix + "t:",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    tenant, other = uuid.uuid4(), uuid.uuid4()
    for tid, mode in ((tenant, "test"), (tenant, "live"), (other, "test")):
        await project_program(ledger_db, program(tid), mode)
    async with (
        served(build_ledger(ledger, verifier=tokens.verifier("ledger"))) as ledger_url,
        served(build_wallet(wallet, verifier=tokens.verifier("wallet-pass"))) as wallet_url,
        served(build_tenant(tenant_settings, verifier=tokens.verifier("tenant"))) as tenant_url,
    ):
        # dev_mode off: the production rules (https-only, public webhook addresses) are under test.
        settings = load_gateway(
            {},
            **common,
            **tokens.service_settings("partner-gateway"),
            database_url=await make_db("partner-gateway", MIGRATIONS["partner-gateway"]),
            redis_prefix=redis_prefix + "g:",
            ledger_url=ledger_url,
            wallet_pass_url=wallet_url,
            tenant_url=tenant_url,
            dev_mode=False,
        )
        async with AsyncTestClient(
            app=build_gateway(settings, verifier=tokens.verifier("partner-gateway"))
        ) as gateway:

            async def key(tid: uuid.UUID, mode: str) -> str:
                staff = tokens.headers(tokens.staff(tid, role="manager"), mode=mode)  # type: ignore[arg-type]
                response = await gateway.post("/internal/v1/api_keys", json={"name": "probe"}, headers=staff)
                assert response.status_code == 201, response.text
                secret = str(response.json()["secret"])
                await raise_limits(settings.database_url, secret, rate=1000, burst=1000, max_in_flight=1000)
                return secret

            keys = Keys(
                owner=await key(tenant, "test"),
                live=await key(tenant, "live"),
                other=await key(other, "test"),
            )
            yield Stack(
                gateway, settings, ledger_url, wallet_url, ledger_db, wallet_db, wallet, tenant, other, keys
            )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
