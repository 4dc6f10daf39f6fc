"""Cross-tenant probes on the tenant service's own routes (rewards, locations, staff): business B's
owner aims every route that takes an id at business A's reward, location and staff member. Each
answers 404 `not_found`, B's listings never show A's rows, and A reads exactly what it had before.
(Tenant configuration is one per business, shared by its live and test modes: no mode to cross.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .bff_stack import create_business, infra_settings, migrations

PROBLEM = "application/problem+json"


@pytest.fixture
async def tenant_api(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
) -> AsyncIterator[tuple[str, str]]:
    from nujoomy_tenant.app import build_app
    from nujoomy_tenant.settings import load

    database = await make_db("tenant", migrations("tenant"))
    common = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    settings = load({}, **common, database_url=database)
    async with served(build_app(settings, verifier=tokens.verifier())) as url:
        yield url, database


async def _snapshot(http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[Any, ...]:
    paths = ("/internal/v1/rewards", "/internal/v1/locations", "/internal/v1/staff")
    return tuple([(await http.get(path, headers=headers)).json() for path in paths])


async def test_another_businesss_rewards_locations_and_staff_are_not_found(
    tenant_api: tuple[str, str], tokens: TestTokens
) -> None:
    url, database = tenant_api
    a = await create_business(database, f"a{uuid.uuid4().hex[:8]}")
    b = await create_business(database, f"b{uuid.uuid4().hex[:8]}")
    owner_a = tokens.headers(tokens.staff(a, role="owner"), mode="test")
    owner_b = tokens.headers(tokens.staff(b, role="owner"), mode="test")
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        reward = await http.post("/internal/v1/rewards", json={"name": "Tea", "cost": 50}, headers=owner_a)
        assert reward.status_code == 201, reward.text
        location = await http.post("/internal/v1/locations", json={"name": "Old town"}, headers=owner_a)
        assert location.status_code == 201, location.text
        (staff,) = (await http.get("/internal/v1/staff", headers=owner_a)).json()["data"]
        rid, lid, sid = reward.json()["id"], location.json()["id"], staff["id"]
        before = await _snapshot(http, owner_a)
        probes: list[tuple[str, str, Any]] = [
            ("GET", f"/internal/v1/rewards/{rid}", None),
            ("PATCH", f"/internal/v1/rewards/{rid}", {"name": "Free tea", "cost": 1}),
            ("DELETE", f"/internal/v1/rewards/{rid}", None),
            ("GET", f"/internal/v1/locations/{lid}", None),
            ("PATCH", f"/internal/v1/locations/{lid}", {"name": "Mallory's"}),
            ("DELETE", f"/internal/v1/locations/{lid}", None),
            ("PATCH", f"/internal/v1/staff/{sid}", {"role": "staff"}),
            ("POST", f"/internal/v1/staff/{sid}/reset", {}),
        ]
        for method, path, body in probes:
            response = await http.request(method, path, json=body, headers=owner_b)
            assert response.status_code == 404, (method, path, response.status_code, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["code"] == "not_found", (method, path)
        seen_by_b = str(await _snapshot(http, owner_b))
        assert all(i not in seen_by_b for i in (rid, lid, sid))
        assert await _snapshot(http, owner_a) == before
