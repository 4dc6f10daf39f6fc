"""Dashboard and scanner sign-in across the gateway and the tenant service, both served on ports, behind
a proxy of ours (127.0.0.1 is in NUJOOMY_WEB_TRUSTED_PROXIES; each request names the visitor in
X-Forwarded-For as that proxy would).

Every sign-in used to reach the tenant service as the gateway's: 51 wrong passwords from one visitor
locked every owner and barista of every business out for 15 minutes, and 5 wrong passwords for an
owner locked that owner out wherever they were. Now the gateway forwards the browser's address (the
right-most hop our proxy appended, not what the visitor wrote), the tenant service believes it only
from the gateway's internal token, and a wrong-password lock holds the guessing address only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens
from nujoomy_testing.web import post_login

from .bff_stack import PASSWORD, create_business, infra_settings, migrations


class SignInStack(msgspec.Struct):
    gateway_url: str
    tenant_url: str
    slugs: list[str]


@pytest.fixture
async def stack(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[SignInStack]:
    from nujoomy_partner_gateway.app import build_app as build_gateway
    from nujoomy_partner_gateway.bff import web_route_handlers
    from nujoomy_partner_gateway.settings import load as load_gateway
    from nujoomy_tenant.app import build_app as build_tenant
    from nujoomy_tenant.settings import load as load_tenant

    monkeypatch.setenv("NUJOOMY_WEB_TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.setenv("NUJOOMY_WEB_HTTP_TIMEOUT", "30")  # a loaded shared machine is not the subject
    common = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    del common["redis_prefix"]
    tenant_db = await make_db("tenant", migrations("tenant"))
    tenant = load_tenant(
        {},
        **common,
        **tokens.service_settings("tenant"),
        database_url=tenant_db,
        redis_prefix=redis_prefix + "t:",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    slugs = ["alpha", "bravo"]
    for slug in slugs:
        await create_business(tenant_db, slug)
    async with served(build_tenant(tenant)) as tenant_url:
        gateway = load_gateway(
            {},
            **common,
            **tokens.service_settings("partner-gateway"),
            tenant_url=tenant_url,
            database_url=await make_db("partner-gateway", migrations("partner-gateway")),
            redis_prefix=redis_prefix + "g:",
            public_url="https://loyalty.example",
            dev_mode=False,
        )
        app = build_gateway(gateway)
        if "/app/login" not in {getattr(r, "path", None) for r in app.routes}:
            for handler in web_route_handlers():
                app.register(handler)
        async with served(app) as gateway_url:
            yield SignInStack(gateway_url, tenant_url, slugs)


def visitor(address: str, written_by_the_visitor: str | None = None) -> dict[str, str]:
    """X-Forwarded-For as our proxy passes it on: whatever the visitor wrote, then the address it saw."""
    hops = [written_by_the_visitor, address] if written_by_the_visitor else [address]
    return {"X-Forwarded-For": ", ".join(hops)}


async def sign_in(http: httpx.AsyncClient, slug: str, password: str, address: str, **kw: Any) -> int:
    answer = await post_login(http, slug, f"owner@{slug}.test", password, headers=visitor(address, **kw))
    return answer.status_code


async def test_one_visitors_wrong_passwords_do_not_lock_out_every_business(stack: SignInStack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        statuses = []
        for i in range(51):  # past the tenant service's per-address limit of 50
            answer = await post_login(
                http,
                "alpha",
                f"guess{i}@alpha.test",
                "wrong wrong wrong",
                # a fresh made-up address per guess in the left-most hop: never believed
                headers=visitor("203.0.113.7", written_by_the_visitor=f"10.9.{i}.1"),
            )
            statuses.append(answer.status_code)
        assert statuses[-1] == 429, statuses  # the guesser is counted, as itself
        assert await sign_in(http, "alpha", PASSWORD, "198.51.100.9") == 303
        assert await sign_in(http, "bravo", PASSWORD, "198.51.100.10") == 303


async def test_a_guesser_cannot_lock_the_owner_out(stack: SignInStack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        for _ in range(6):
            assert await sign_in(http, "alpha", "wrong wrong wrong", "203.0.113.7") in (401, 429)
        # The guessing address is done with this account, even with the right password...
        assert await sign_in(http, "alpha", PASSWORD, "203.0.113.7") == 429
        # ...and the owner, at their own address, signs in (the scanner signs in the same way).
        assert await sign_in(http, "alpha", PASSWORD, "198.51.100.9") == 303


async def test_nobody_but_the_gateway_names_the_address_the_tenant_service_counts(
    stack: SignInStack, tokens: TestTokens
) -> None:
    """Straight at the tenant service (from 127.0.0.1): naming an address without the gateway's
    internal token changes nothing, so a fresh address per guess walks past no limit."""
    async with httpx.AsyncClient(base_url=stack.tenant_url, timeout=30) as http:
        statuses = []
        for i in range(51):  # past the per-address limit of 50, a made-up address on every guess
            body = {"tenant": "alpha", "email": f"guess{i}@alpha.test", "password": "wrong wrong wrong"}
            claim = {"Nujoomy-Client-Address": f"203.0.113.{i}", "X-Forwarded-For": f"198.51.100.{i}"}
            statuses.append((await http.post("/auth/login", json=body, headers=claim)).status_code)
        assert statuses[-1] == 429, statuses
        body = {"tenant": "alpha", "email": "owner@alpha.test", "password": PASSWORD}
        # An internal token without the forwarding scope (another service's) is no better.
        other_service = tokens.internal(uuid.uuid4(), to="tenant", scopes=("members:write",))
        claim = {"Nujoomy-Client-Address": "192.0.2.1", "Authorization": f"Bearer {other_service}"}
        assert (await http.post("/auth/login", json=body, headers=claim)).status_code == 429
