"""Rate limits: GCRA per key on Redis's clock, exact under concurrency, headers on every response."""

from __future__ import annotations

import asyncio
import re
import uuid

import msgspec
from litestar.testing import AsyncTestClient
from nujoomy_kit.ids import encode_id
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.tokens import TestTokens

from .conftest import Client, MakeKey, bearer

RATELIMIT = re.compile(r'^"key";r=(\d+);t=(\d+)$')


async def test_burst_of_simultaneous_requests_on_a_fresh_key_lets_exactly_burst_plus_one_through(
    client: Client, make_key: MakeKey
) -> None:
    # GCRA: an idle key takes one emission interval plus the burst tolerance at once. A slow
    # sustained rate, so the time the 100 requests take cannot earn anyone an extra slot.
    key = await make_key("live", rate=0.01, burst=10, max_in_flight=1000)
    responses = await asyncio.gather(*(client.get("/v1/events", headers=bearer(key)) for _ in range(100)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 11
    assert statuses.count(429) == 89
    remaining = sorted(
        int(RATELIMIT.match(r.headers["ratelimit"]).group(1))  # type: ignore[union-attr]
        for r in responses
        if r.status_code == 200
    )
    assert remaining == list(range(11))  # the policy's quota counted down, once each
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"] == '"key";q=11;w=1100, "tenant";q=601;w=3'
    assert RATELIMIT.match(refused.headers["ratelimit"])
    assert refused.headers["ratelimit"].startswith('"key";r=0;')


async def test_every_response_carries_the_policy_and_the_remaining_quota(
    client: Client, make_key: MakeKey
) -> None:
    key = await make_key("test")  # test default: 25 requests/s, burst 25, so 26 at once from idle
    first = await client.get("/v1/events", headers=bearer(key))
    assert first.headers["ratelimit-policy"] == '"key";q=26;w=2, "tenant";q=51;w=2'
    remaining = int(RATELIMIT.match(first.headers["ratelimit"]).group(1))  # type: ignore[union-attr]
    assert remaining == 25
    not_found = await client.get("/v1/events/evt_nope", headers=bearer(key))
    assert not_found.status_code == 404
    assert "ratelimit" in not_found.headers


async def test_live_keys_default_to_100_per_second_with_bursts_of_200(
    client: Client, make_key: MakeKey
) -> None:
    key = await make_key("live")
    response = await client.get("/v1/events", headers=bearer(key))
    assert response.headers["ratelimit-policy"] == '"key";q=201;w=3, "tenant";q=601;w=3'


async def test_each_key_has_its_own_budget(client: Client, make_key: MakeKey) -> None:
    a = await make_key("test", rate=0.01, burst=1)
    b = await make_key("test", rate=0.01, burst=1)
    for _ in range(2):  # burst 1: two at once from idle
        assert (await client.get("/v1/events", headers=bearer(a))).status_code == 200
    assert (await client.get("/v1/events", headers=bearer(a))).status_code == 429
    assert (await client.get("/v1/events", headers=bearer(b))).status_code == 200


async def _unreachable_redis_app(
    settings: Settings, tokens: TestTokens, *, fail_closed: bool
) -> AsyncTestClient:  # type: ignore[type-arg]
    dead = msgspec.structs.replace(
        settings, redis_url="redis://127.0.0.1:1/0", rate_limit_fail_closed=fail_closed
    )
    return AsyncTestClient(app=build_app(dead, verifier=tokens.verifier()))


async def test_an_unreachable_redis_fails_open_with_a_metric_or_closed_when_configured(
    client: Client, settings: Settings, tokens: TestTokens, make_key: MakeKey
) -> None:
    key = await make_key("test")
    async with await _unreachable_redis_app(settings, tokens, fail_closed=False) as open_:
        response = await open_.get("/v1/events", headers=bearer(key))
        assert response.status_code == 200
        assert "ratelimit" not in response.headers
        assert "ratelimit-policy" in response.headers
        metrics = (await open_.get("/metrics")).text
        assert "gateway_ratelimit_unavailable_total 1.0" in metrics
    async with await _unreachable_redis_app(settings, tokens, fail_closed=True) as closed:
        response = await closed.get("/v1/events", headers=bearer(key))
        assert response.status_code == 503
        assert response.json()["code"] == "rate_limiter_unavailable"


async def test_in_flight_requests_are_capped_per_key(
    client: Client, make_key: MakeKey, tenant: uuid.UUID
) -> None:
    key = await make_key("test", max_in_flight=2)
    listed = await client.get("/v1/events", headers=bearer(key))
    assert listed.status_code == 200
    edge = client.app.state["edge"]
    key_row = await _only_key_id(client, tenant)
    edge.in_flight[key_row] = 2  # two requests of this key are being served right now
    try:
        refused = await client.get("/v1/events", headers=bearer(key))
    finally:
        del edge.in_flight[key_row]
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_concurrent_requests"
    assert (await client.get("/v1/events", headers=bearer(key))).status_code == 200


async def _only_key_id(client: Client, tenant: uuid.UUID) -> str:
    import asyncpg
    from nujoomy_kit.db import plain_url

    settings: Settings = client.app.state["settings"]
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return encode_id("key", await conn.fetchval("SELECT id FROM api_keys WHERE tenant_id = $1", tenant))
    finally:
        await conn.close()
