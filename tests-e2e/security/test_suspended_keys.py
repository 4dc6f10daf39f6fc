"""A suspended business's API keys stop working on every partner route, the gateway's own (events,
webhook endpoints) as well as those it forwards to the ledger, with one answer for all: the
platform's own (401 `unauthorized`, "tenant suspended"). Real tenant service, real suspended list;
another business's key keeps working."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .bff_stack import create_business, infra_settings, migrations

ROUTES = [
    ("GET", "/v1/events", None),  # the gateway's own
    ("GET", "/v1/webhook_endpoints", None),
    ("POST", "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/hook"}),
    ("GET", "/v1/members?external_id=x", None),  # forwarded to the ledger
]


async def _key(gateway_db: str, tenant_id: uuid.UUID) -> str:
    from nujoomy_partner_gateway.operations.keys import create_key

    engine = make_engine(gateway_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            _, secret = await create_key(
                db, tenant_id, "test", name="pos", scopes=["read", "write", "webhooks"], default_cap=5
            )
    finally:
        await engine.dispose()
    return secret


async def _suspend(tenant_db: str, slug: str) -> None:
    from nujoomy_tenant import provisioning

    engine = make_engine(tenant_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            await provisioning.set_status(db, slug, "suspended")
    finally:
        await engine.dispose()


async def test_a_suspended_business_keys_get_the_platforms_answer_on_every_route(
    tokens: TestTokens, make_db: MakeDb, amqp_url: str, redis_url: str, redis_prefix: str, topology: Topology
) -> None:
    from nujoomy_ledger.app import build_app as build_ledger
    from nujoomy_ledger.settings import load as load_ledger
    from nujoomy_partner_gateway.app import build_app as build_gateway
    from nujoomy_partner_gateway.settings import load as load_gateway
    from nujoomy_tenant.app import build_app as build_tenant
    from nujoomy_tenant.settings import load as load_tenant

    common: dict[str, Any] = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    tenant_db = await make_db("tenant", migrations("tenant"))
    gateway_db = await make_db("partner-gateway", migrations("partner-gateway"))
    tenant_settings = load_tenant(
        {},
        **common,
        **tokens.service_settings("tenant"),
        database_url=tenant_db,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    suspended = await create_business(tenant_db, "paused")
    active = await create_business(tenant_db, "open")
    keys = {"paused": await _key(gateway_db, suspended), "open": await _key(gateway_db, active)}
    await _suspend(tenant_db, "paused")
    async with served(build_tenant(tenant_settings, verifier=tokens.verifier("tenant"))) as tenant_url:
        # The ledger and the gateway verify as in production: the suspended list from the tenant service.
        ledger_db = await make_db("ledger", migrations("ledger"))
        ledger = load_ledger(
            {}, **common, **tokens.service_settings("ledger"), database_url=ledger_db, tenant_url=tenant_url
        )
        async with served(build_ledger(ledger)) as ledger_url:
            gateway = load_gateway(
                {},
                **common,
                **tokens.service_settings("partner-gateway"),
                database_url=gateway_db,
                tenant_url=tenant_url,
                ledger_url=ledger_url,
                dev_mode=True,
            )
            async with (
                served(build_gateway(gateway)) as gateway_url,
                httpx.AsyncClient(base_url=gateway_url) as http,
            ):
                for method, path, body in ROUTES:
                    auth = {"Authorization": f"Bearer {keys['paused']}"}
                    refused = await http.request(method, path, json=body, headers=auth)
                    assert refused.status_code == 401, (path, refused.text)
                    assert refused.headers["content-type"] == "application/problem+json"
                    assert (refused.json()["code"], refused.json()["detail"]) == (
                        "unauthorized",
                        "tenant suspended",
                    )
                    allowed = await http.request(
                        method, path, json=body, headers={"Authorization": f"Bearer {keys['open']}"}
                    )
                    assert allowed.status_code in (200, 201), (path, allowed.text)
