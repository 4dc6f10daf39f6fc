"""The dashboard's backend-for-frontend as deployed: the real tenant service (which signs staff in and
issues the tokens), ledger and wallet-pass (each verifying those tokens against the tenant's keys),
the tenant and ledger workers (programs reach the ledger through the broker), and the gateway served
on a port. Two businesses, A and B; `sign_in` goes through the real /app/login form and returns the
session as the browser holds it (cookies + the CSRF header value)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens
from nujoomy_testing.web import post_login
from nujoomy_testing.workers import working

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def migrations(service: str) -> Path:
    return ROOT / "services" / service / "migrations"


class Session(msgspec.Struct):
    """A signed-in browser: its cookies and the CSRF value its script sends back as a header."""

    cookies: dict[str, str]
    csrf: str
    tenant_id: uuid.UUID
    access_token: str

    def headers(self, mode: str = "test") -> dict[str, str]:
        jar = {**self.cookies, "nj_mode": mode}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "X-CSRF-Token": self.csrf}


class BffStack(msgspec.Struct):
    gateway_url: str
    tenant_url: str
    ledger_url: str
    wallet_url: str
    tenant_db: str
    ledger_db: str
    a: Session
    b: Session


def infra_settings(
    amqp_url: str, redis_url: str, redis_prefix: str, topology: Topology, tokens: TestTokens
) -> dict[str, Any]:
    """What every service served in these tests shares: this test's broker topology and Redis
    prefix, the test internal keys, a small pool (the machine's PostgreSQL serves every suite)."""
    return {
        "amqp_url": amqp_url,
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "events_exchange": topology.exchange,
        "queue_prefix": topology.prefix,
        "internal_keyset": tokens.keyset,
        "db_pool_size": 2,
        "log_json": False,
    }


async def create_business(tenant_db: str, slug: str) -> uuid.UUID:
    from nujoomy_tenant import provisioning

    engine = make_engine(tenant_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            created = await provisioning.create_tenant(
                db,
                provisioning.NewTenant(
                    slug=slug, name=slug.title(), owner_email=f"owner@{slug}.test", owner_password=PASSWORD
                ),
                invite_ttl=3600,
            )
    finally:
        await engine.dispose()
    return created.tenant_id


async def sign_in(gateway_url: str, slug: str, tenant_id: uuid.UUID) -> Session:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http:
        response = await post_login(http, slug, f"owner@{slug}.test", PASSWORD)
    assert response.status_code == 303, response.text
    cookies = {c.name: str(c.value) for c in response.cookies.jar}
    assert {"nj_access", "nj_refresh", "nj_csrf"} <= set(cookies), cookies
    return Session(cookies, cookies["nj_csrf"], tenant_id, cookies["nj_access"])


async def ready_to_earn(ledger_url: str, session: Session) -> None:
    """The program reaches the ledger through the tenant's relay and the ledger's consumer, in both modes."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=ledger_url, timeout=10) as http:
        for mode in ("test", "live"):
            headers = {"Authorization": f"Bearer {session.access_token}", "Nujoomy-Mode": mode}
            while True:
                response = await http.get("/internal/v1/rewards", headers=headers)
                if response.status_code == 200:
                    break
                assert time.monotonic() < deadline, response.text
                await asyncio.sleep(0.2)


@pytest.fixture(name="bff")
async def bff_stack(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[BffStack]:
    from nujoomy_ledger.app import build_app as build_ledger
    from nujoomy_ledger.settings import load as load_ledger
    from nujoomy_ledger.worker import build_worker as ledger_worker
    from nujoomy_partner_gateway.app import build_app as build_gateway
    from nujoomy_partner_gateway.settings import load as load_gateway
    from nujoomy_tenant.app import build_app as build_tenant
    from nujoomy_tenant.settings import load as load_tenant
    from nujoomy_tenant.worker import build_worker as tenant_worker
    from nujoomy_wallet_pass import devcerts
    from nujoomy_wallet_pass.app import build_app as build_wallet
    from nujoomy_wallet_pass.settings import load as load_wallet

    # The shared test machine runs many suites at once: a 5 s production timeout would turn load
    # into "unavailable" answers that are not what the fuzz is looking for.
    monkeypatch.setenv("NUJOOMY_WEB_HTTP_TIMEOUT", "30")
    common = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    del common["redis_prefix"]  # each service below gets its own
    tenant_db = await make_db("tenant", migrations("tenant"))
    ledger_db = await make_db("ledger", migrations("ledger"))
    wallet_db = await make_db("wallet-pass", migrations("wallet-pass"))
    tenant = load_tenant(
        {},
        **common,
        database_url=tenant_db,
        redis_prefix=redis_prefix + "t:",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    async with served(build_tenant(tenant)) as tenant_url, working(tenant_worker(tenant)):
        shared = {**common, "tenant_url": tenant_url}
        ledger = load_ledger(
            {},
            **shared,
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
            **shared,
            **tokens.service_settings("wallet-pass"),
            database_url=wallet_db,
            redis_prefix=redis_prefix + "w:",
            public_url="https://loyalty.example",
        )
        async with (
            served(build_ledger(ledger)) as ledger_url,
            working(ledger_worker(ledger)),
            served(build_wallet(wallet)) as wallet_url,
        ):
            gateway = load_gateway(
                {},
                **shared,
                **tokens.service_settings("partner-gateway"),
                database_url=await make_db("partner-gateway", migrations("partner-gateway")),
                redis_prefix=redis_prefix + "g:",
                ledger_url=ledger_url,
                wallet_pass_url=wallet_url,
                public_url="https://loyalty.example",
                dev_mode=False,
            )
            ids = {slug: await create_business(tenant_db, slug) for slug in ("alpha", "bravo")}
            async with served(build_gateway(gateway)) as gateway_url:
                a = await sign_in(gateway_url, "alpha", ids["alpha"])
                b = await sign_in(gateway_url, "bravo", ids["bravo"])
                for session in (a, b):
                    await ready_to_earn(ledger_url, session)
                yield BffStack(gateway_url, tenant_url, ledger_url, wallet_url, tenant_db, ledger_db, a, b)
