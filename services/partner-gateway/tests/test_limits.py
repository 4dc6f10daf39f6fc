"""Limits are the operator's: a tenant cannot raise its keys' rate or concurrency, its keys share one
aggregate budget per plane, and it may hold only so many keys."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.tokens import TestTokens
from sqlalchemy.ext.asyncio import create_async_engine

from .conftest import Client, MakeKey, bearer, listening


@pytest.mark.parametrize("role", ["manager", "owner"])
@pytest.mark.parametrize("limits", [{"rate": 10_000}, {"burst": 100_000}, {"max_in_flight": 10_000}])
async def test_staff_cannot_set_a_keys_limits(
    client: Client, tokens: TestTokens, tenant: uuid.UUID, role: str, limits: dict[str, int]
) -> None:
    staff = tokens.headers(tokens.staff(tenant, role=role), mode="live")  # type: ignore[arg-type]
    refused = await client.post("/internal/v1/api_keys", json={"name": "greedy", **limits}, headers=staff)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/internal/v1/api_keys", headers=staff)).json()["data"] == []


async def _set_tenant_limits(
    settings: Settings, tenant: uuid.UUID, mode: str, **limits: float | None
) -> None:
    """What `nujoomy keys tenant-limits` runs."""
    import redis.asyncio as redis
    from nujoomy_partner_gateway.operations.limits import set_tenant_limits
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    engine = create_async_engine(settings.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    client = redis.Redis.from_url(settings.redis_url)
    try:
        async with async_sessionmaker(engine, class_=AsyncSession)() as db:
            await set_tenant_limits(
                db,
                client,
                settings.redis_prefix,
                tenant_id=tenant,
                mode=mode,  # type: ignore[arg-type]
                rate=limits.get("rate"),
                burst=limits.get("burst"),  # type: ignore[arg-type]
                max_keys=limits.get("max_keys"),  # type: ignore[arg-type]
            )
    finally:
        await client.aclose()
        await engine.dispose()


async def test_a_tenants_keys_share_one_aggregate_budget(
    client: Client, settings: Settings, tenant: uuid.UUID, make_key: MakeKey
) -> None:
    keys = [await make_key("live", rate=1000, burst=1000) for _ in range(3)]
    await _set_tenant_limits(settings, tenant, "live", rate=0.01, burst=2)
    statuses = [(await client.get("/v1/events", headers=bearer(k))).status_code for k in keys]
    assert statuses == [200, 200, 200]  # burst 2: three at once from idle, whichever keys send them
    refused = await client.get("/v1/events", headers=bearer(keys[0]))
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["ratelimit"].startswith('"tenant";r=0;')
    assert '"tenant";q=3;' in refused.headers["ratelimit-policy"]
    # Another tenant, and this tenant's test plane, have budgets of their own.
    assert (await client.get("/v1/events", headers=bearer(await make_key("test")))).status_code == 200
    other = await make_key("live", tenant_id=uuid.uuid4())
    assert (await client.get("/v1/events", headers=bearer(other))).status_code == 200


async def test_a_plane_holds_at_most_its_cap_of_working_keys(
    settings: Settings, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    capped = msgspec.structs.replace(settings, max_keys_per_tenant=2)
    async with AsyncTestClient(app=build_app(capped, verifier=tokens.verifier())) as client:
        await listening(client)
        manager = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
        made = [
            await client.post("/internal/v1/api_keys", json={"name": f"k{i}"}, headers=manager)
            for i in range(2)
        ]
        assert [m.status_code for m in made] == [201, 201]
        third = await client.post("/internal/v1/api_keys", json={"name": "k3"}, headers=manager)
        assert third.status_code == 409
        assert third.headers["content-type"] == "application/problem+json"
        assert third.json()["code"] == "api_key_limit_reached"
        # A roll at the cap works (the old key is on its way out) ...
        rolled = await client.post(f"/internal/v1/api_keys/{made[0].json()['id']}/roll", headers=manager)
        assert rolled.status_code == 201
        # ... but the key it replaced still counts while it works: no new key yet.
        again = await client.post("/internal/v1/api_keys", json={"name": "k4"}, headers=manager)
        assert again.json()["code"] == "api_key_limit_reached"
        # A revoke frees a place; the live plane has a cap of its own.
        await client.delete(f"/internal/v1/api_keys/{made[0].json()['id']}", headers=manager)
        await client.delete(f"/internal/v1/api_keys/{made[1].json()['id']}", headers=manager)
        assert (
            await client.post("/internal/v1/api_keys", json={"name": "k5"}, headers=manager)
        ).status_code == 201
        live = tokens.headers(tokens.staff(tenant, role="manager"), mode="live")
        assert (
            await client.post("/internal/v1/api_keys", json={"name": "l"}, headers=live)
        ).status_code == 201


async def test_an_operator_sets_a_tenants_cap(
    client: Client, settings: Settings, tokens: TestTokens, tenant: uuid.UUID, make_key: MakeKey
) -> None:
    await make_key("test")
    await _set_tenant_limits(settings, tenant, "test", max_keys=1)
    manager = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
    refused = await client.post("/internal/v1/api_keys", json={"name": "second"}, headers=manager)
    assert refused.status_code == 409
    assert refused.json()["code"] == "api_key_limit_reached"
    assert refused.json()["max_keys"] == 1


async def test_concurrent_creations_do_not_pass_the_cap_together(
    settings: Settings, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    import asyncio

    capped = msgspec.structs.replace(settings, max_keys_per_tenant=3)
    async with AsyncTestClient(app=build_app(capped, verifier=tokens.verifier())) as client:
        manager = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
        made = await asyncio.gather(
            *(client.post("/internal/v1/api_keys", json={"name": f"k{i}"}, headers=manager) for i in range(8))
        )
        assert sorted(m.status_code for m in made) == [201] * 3 + [409] * 5
