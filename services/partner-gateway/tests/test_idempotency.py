"""Idempotency-Key: one effect for many identical POSTs, replay marked, misuse refused, failures not kept."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import plain_url
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.edge.idempotency import IdempotencyStore
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.tokens import TestTokens

from .conftest import Client, MakeKey, bearer, listening

ENDPOINT = {"url": "http://127.0.0.1:9/hook", "event_types": ["points.earned"]}


async def _endpoints(db_url: str) -> int:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM webhook_endpoints"))
    finally:
        await conn.close()


async def test_fifty_concurrent_identical_posts_have_one_effect(
    client: Client, make_key: MakeKey, db_url: str
) -> None:
    key = await make_key("test", rate=1000, burst=1000, max_in_flight=1000)
    headers = bearer(key, **{"Idempotency-Key": "create-hook-1"})
    responses = await asyncio.gather(
        *(client.post("/v1/webhook_endpoints", json=ENDPOINT, headers=headers) for _ in range(50))
    )
    assert await _endpoints(db_url) == 1
    kinds = Counter(
        "replayed" if r.headers.get("idempotent-replayed") == "true" else r.status_code for r in responses
    )
    assert kinds[201] == 1
    assert kinds["replayed"] + kinds[409] == 49
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1  # every replay names the one endpoint
    in_use = [r for r in responses if r.status_code == 409]
    assert all(r.json()["code"] == "idempotency_key_in_use" for r in in_use)


async def test_a_retry_replays_the_first_answer(client: Client, make_key: MakeKey, db_url: str) -> None:
    key = await make_key("test")
    first = await client.post(
        "/v1/webhook_endpoints", json=ENDPOINT, headers=bearer(key, **{"Idempotency-Key": "k1"})
    )
    # Quoted (the draft's sf-string form) or bare: the same key.
    again = await client.post(
        "/v1/webhook_endpoints", json=ENDPOINT, headers=bearer(key, **{"Idempotency-Key": '"k1"'})
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    assert await _endpoints(db_url) == 1


async def test_the_same_key_with_another_body_is_refused(client: Client, make_key: MakeKey) -> None:
    key = await make_key("test")
    headers = bearer(key, **{"Idempotency-Key": "k2"})
    assert (await client.post("/v1/webhook_endpoints", json=ENDPOINT, headers=headers)).status_code == 201
    other = await client.post("/v1/webhook_endpoints", json={**ENDPOINT, "description": "x"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_the_scope_is_key_and_route(client: Client, make_key: MakeKey, db_url: str) -> None:
    a, b = await make_key("test"), await make_key("test")
    for key in (a, b):
        response = await client.post(
            "/v1/webhook_endpoints", json=ENDPOINT, headers=bearer(key, **{"Idempotency-Key": "same"})
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await _endpoints(db_url) == 2


async def test_rejected_requests_are_not_stored(client: Client, make_key: MakeKey, db_url: str) -> None:
    key = await make_key("test", scopes=["read", "webhooks"])
    headers = bearer(key, **{"Idempotency-Key": "fix-and-retry"})
    invalid = await client.post("/v1/webhook_endpoints", json={"url": "ftp://x"}, headers=headers)
    assert invalid.status_code in (400, 422)
    unauthenticated = await client.post(
        "/v1/webhook_endpoints", json=ENDPOINT, headers={"Idempotency-Key": "fix-and-retry"}
    )
    assert unauthenticated.status_code == 401
    fixed = await client.post("/v1/webhook_endpoints", json=ENDPOINT, headers=headers)
    assert fixed.status_code == 201
    assert "idempotent-replayed" not in fixed.headers


async def test_rate_limited_requests_are_not_stored(client: Client, make_key: MakeKey) -> None:
    key = await make_key("test", rate=0.01, burst=1)
    for _ in range(2):  # burst 1: two at once from idle
        assert (await client.get("/v1/events", headers=bearer(key))).status_code == 200
    limited = await client.post(
        "/v1/webhook_endpoints", json=ENDPOINT, headers=bearer(key, **{"Idempotency-Key": "later"})
    )
    assert limited.status_code == 429
    # Nothing was claimed: the limiter said no before the idempotency layer ran.
    settings = client.app.state["settings"]
    probe = aioredis.Redis.from_url(settings.redis_url)
    try:
        keys = [k async for k in probe.scan_iter(match=f"{settings.redis_prefix}gateway:idem:*")]
    finally:
        await probe.aclose()
    assert keys == []


async def test_an_overlong_idempotency_key_is_a_400(client: Client, make_key: MakeKey) -> None:
    key = await make_key("test")
    response = await client.post(
        "/v1/webhook_endpoints", json=ENDPOINT, headers=bearer(key, **{"Idempotency-Key": "x" * 256})
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"


async def test_the_record_is_kept_before_the_answer_leaves(
    settings: Settings, tokens: TestTokens, make_key: MakeKey, redis_url: str, redis_prefix: str
) -> None:
    """A retry sent the moment the answer arrives must find the answer kept (a replay), not the
    in-flight marker (a 409): the record is written before the first byte of the answer is sent."""
    app = build_app(settings, verifier=tokens.verifier())
    seen: list[bytes] = []
    inner = app.asgi_handler

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        async def send_watched(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "POST":
                # A client of its own: the app runs on the test client's loop, not the test's.
                redis = aioredis.from_url(redis_url)
                keys = await redis.keys(f"{redis_prefix}gateway:idem:*")
                seen.extend([await redis.get(k) or b"" for k in keys])
                await redis.aclose()
            await send(message)

        await inner(scope, receive, send_watched)

    app.asgi_handler = watching
    key = await make_key("test")  # made through the fixture's app: same database
    async with AsyncTestClient(app=app) as client:
        await listening(client)
        response = await client.post(
            "/v1/webhook_endpoints", json=ENDPOINT, headers=bearer(key, **{"Idempotency-Key": "k9"})
        )
    assert response.status_code == 201
    assert len(seen) == 1
    record = IdempotencyStore.decode(seen[0])
    assert (record.state, record.status) == ("done", 201)
