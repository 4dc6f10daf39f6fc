"""Partner API v1 end to end over the REAL ledger and wallet-pass: enrol, earn, redeem, reverse,
idempotency down to the ledger, plane and tenant isolation on every route, problems passed through."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .conftest import Client, bearer, set_limits
from .ledger_stack import LEDGER_MIGRATIONS, TENANT_MIGRATIONS, WALLET_MIGRATIONS, program, project_program


class Keys(msgspec.Struct):
    test: str  # tenant A, test plane
    live: str  # tenant A, live plane
    other: str  # tenant B, test plane
    read_only: str  # tenant A, test plane, read scope only
    second: str  # tenant A, test plane: another integration of the same business


@pytest.fixture
async def gateway(
    settings: Settings,
    tokens: TestTokens,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tmp_path: Path,
) -> AsyncIterator[Client]:
    from nujoomy_ledger.app import build_app as build_ledger
    from nujoomy_ledger.settings import load as load_ledger
    from nujoomy_wallet_pass import devcerts
    from nujoomy_wallet_pass.app import build_app as build_wallet
    from nujoomy_wallet_pass.settings import load as load_wallet

    common = {
        "amqp_url": amqp_url,
        "redis_url": redis_url,
        "events_exchange": topology.exchange,
        "queue_prefix": topology.prefix,
        "internal_keyset": tokens.keyset,
        "log_json": False,
    }
    ledger_db = await make_db("ledger", LEDGER_MIGRATIONS)
    ledger = load_ledger({}, **common, database_url=ledger_db, redis_prefix=redis_prefix + "l:")
    env = devcerts.wallet_env(
        devcerts.generate(tmp_path / "wallet"),
        "https://127.0.0.1:9",
        "http://127.0.0.1:9/wo",
        "http://127.0.0.1:9/t",
    )
    wallet = load_wallet(
        env,
        **common,
        database_url=await make_db("wallet-pass", WALLET_MIGRATIONS),
        redis_prefix=redis_prefix + "w:",
        public_url="https://loyalty.example",
    )
    async with (
        served(build_ledger(ledger, verifier=tokens.verifier("ledger"))) as ledger_url,
        served(build_wallet(wallet, verifier=tokens.verifier("wallet-pass"))) as wallet_url,
    ):
        routed = msgspec.structs.replace(settings, ledger_url=ledger_url, wallet_pass_url=wallet_url)
        async with AsyncTestClient(app=build_app(routed, verifier=tokens.verifier())) as client:
            client.ledger_db = ledger_db  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def keys(gateway: Client, tokens: TestTokens, tenant: uuid.UUID) -> Keys:
    other = uuid.uuid4()
    for tid, mode in ((tenant, "test"), (tenant, "live"), (other, "test")):
        await project_program(gateway.ledger_db, program(tid, reward_name=f"Coffee {mode}"), mode)  # type: ignore[attr-defined]

    async def make(tid: uuid.UUID, mode: str, scopes: list[str] | None = None) -> str:
        staff = tokens.headers(tokens.staff(tid, role="manager"), mode=mode)  # type: ignore[arg-type]
        body: dict[str, Any] = {"name": "pos"}
        if scopes:
            body["scopes"] = scopes
        response = await gateway.post("/internal/v1/api_keys", json=body, headers=staff)
        secret = str(response.json()["secret"])
        database_url = gateway.app.state["settings"].database_url
        await set_limits(database_url, secret, rate=1000, burst=1000, max_in_flight=1000)
        return secret

    return Keys(
        test=await make(tenant, "test"),
        live=await make(tenant, "live"),
        other=await make(other, "test"),
        read_only=await make(tenant, "test", ["read"]),
        second=await make(tenant, "test"),
    )


async def enrol(client: Client, key: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/members", json={"name": "Lina", **fields}, headers=bearer(key))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_partner_enrols_earns_redeems_and_reverses(gateway: Client, keys: Keys) -> None:
    member = await enrol(gateway, keys.test, email="lina@example.com", external_id="pos-42")
    assert member["id"].startswith("mbr_")
    assert member["apple_pass_url"].startswith("https://loyalty.example/")
    assert "pay.google.com" in member["google_save_url"]
    assert member["card_url"].startswith("https://loyalty.example/cards/")
    assert len(member["card_url"]) < len(member["google_save_url"]) // 4
    assert "card_token" not in member
    mid = member["id"]
    earned = await gateway.post(f"/v1/members/{mid}/earn", json={"points": 150}, headers=bearer(keys.test))
    assert earned.status_code == 200, earned.text
    by_amount = await gateway.post(
        f"/v1/members/{mid}/earn",
        json={"amount": {"value": "12.50", "currency": "EUR"}, "reference": "order-7"},
        headers=bearer(keys.test),
    )
    assert by_amount.json()["balance"]["balance"] == 150 + 24  # 2 points per euro, whole euros
    redeemed = await gateway.post(f"/v1/members/{mid}/redeem", json={"points": 50}, headers=bearer(keys.test))
    assert redeemed.json()["balance"]["balance"] == 124
    txn = earned.json()["transaction"]["id"]
    reversed_ = await gateway.post(
        f"/v1/transactions/{txn}/reverse", json={"reason": "refund"}, headers=bearer(keys.test)
    )
    assert reversed_.status_code == 200, reversed_.text
    fetched = (await gateway.get(f"/v1/members/{mid}", headers=bearer(keys.test))).json()
    assert fetched["balance"] == reversed_.json()["balance"]["balance"] == 124 - 150
    assert "card_token" not in fetched
    history = (await gateway.get(f"/v1/members/{mid}/transactions", headers=bearer(keys.test))).json()
    assert [t["kind"] for t in history["data"]] == ["reverse", "redeem", "earn", "earn"]
    assert "next_cursor" in history
    found = (await gateway.get("/v1/members?external_id=pos-42", headers=bearer(keys.test))).json()
    assert [m["id"] for m in found["data"]] == [mid]
    rewards = (await gateway.get("/v1/rewards", headers=bearer(keys.test))).json()
    assert "Coffee test" in str(rewards)
    assert "Coffee live" not in str(rewards)
    assert "rwd_" in str(rewards)


async def test_fifty_concurrent_identical_earns_post_one_ledger_transaction(
    gateway: Client, keys: Keys
) -> None:
    mid = (await enrol(gateway, keys.test))["id"]
    headers = bearer(keys.test, **{"Idempotency-Key": "till-7-sale-991"})
    responses = await asyncio.gather(
        *(gateway.post(f"/v1/members/{mid}/earn", json={"points": 10}, headers=headers) for _ in range(50))
    )
    assert {r.status_code for r in responses} <= {200, 409}
    ok = [r for r in responses if r.status_code == 200]
    assert len({r.json()["transaction"]["id"] for r in ok}) == 1
    history = (await gateway.get(f"/v1/members/{mid}/transactions", headers=bearer(keys.test))).json()
    assert len(history["data"]) == 1
    assert (await gateway.get(f"/v1/members/{mid}", headers=bearer(keys.test))).json()["balance"] == 10


async def test_two_integrations_idempotency_keys_never_meet(gateway: Client, keys: Keys) -> None:
    """Idempotency keys are scoped per API key (at the gateway and at the ledger it forwards to):
    the same string from another integration of the business is another request, and nothing of
    the first request's values reaches the second integration."""
    mid = (await enrol(gateway, keys.test))["id"]
    first = await gateway.post(
        f"/v1/members/{mid}/earn",
        json={"points": 17},
        headers=bearer(keys.test, **{"Idempotency-Key": "sale-1"}),
    )
    assert first.status_code == 200, first.text
    second = await gateway.post(
        f"/v1/members/{mid}/earn",
        json={"points": 5},
        headers=bearer(keys.second, **{"Idempotency-Key": "sale-1"}),
    )
    assert second.status_code == 200, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["transaction"]["id"] != first.json()["transaction"]["id"]
    assert second.json()["balance"]["balance"] == 22
    # The same integration reusing its key with other values: a conflict naming the field only.
    reused = await gateway.post(
        f"/v1/members/{mid}/earn",
        json={"points": 6},
        headers=bearer(keys.second, **{"Idempotency-Key": "sale-1"}),
    )
    assert reused.status_code in (409, 422), reused.text
    assert "5" not in reused.text.replace(mid, "")
    assert "17" not in reused.text.replace(mid, "")


async def test_a_json_body_that_is_not_utf8_is_a_400_problem(gateway: Client, keys: Keys) -> None:
    for extra in ({}, {"Idempotency-Key": "utf8"}):
        answer = await gateway.post(
            "/v1/members",
            content=b'{"name": "Lina \xff\xfe"}',
            headers=bearer(keys.test, **{"Content-Type": "application/json", **extra}),
        )
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "invalid_input"


async def test_a_lost_idempotency_record_still_cannot_post_twice(
    gateway: Client, keys: Keys, settings: Settings
) -> None:
    mid = (await enrol(gateway, keys.test))["id"]
    headers = bearer(keys.test, **{"Idempotency-Key": "sale-1"})
    first = await gateway.post(f"/v1/members/{mid}/earn", json={"points": 10}, headers=headers)
    probe = aioredis.Redis.from_url(settings.redis_url)
    try:
        lost = [k async for k in probe.scan_iter(match=f"{settings.redis_prefix}gateway:idem:*")]
        assert lost
        await probe.delete(*lost)
    finally:
        await probe.aclose()
    again = await gateway.post(f"/v1/members/{mid}/earn", json={"points": 10}, headers=headers)
    assert "idempotent-replayed" not in again.headers  # the gateway forgot; the ledger did not
    assert again.json()["transaction"]["id"] == first.json()["transaction"]["id"]
    assert (await gateway.get(f"/v1/members/{mid}", headers=bearer(keys.test))).json()["balance"] == 10


async def test_downstream_problems_pass_through_unchanged(gateway: Client, keys: Keys) -> None:
    mid = (await enrol(gateway, keys.test))["id"]
    response = await gateway.post(f"/v1/members/{mid}/redeem", json={"points": 5}, headers=bearer(keys.test))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "insufficient_points"
    assert "ratelimit" in response.headers


async def test_every_route_refuses_the_other_plane_and_other_tenants(gateway: Client, keys: Keys) -> None:
    mid = (await enrol(gateway, keys.test))["id"]
    txn = (
        await gateway.post(f"/v1/members/{mid}/earn", json={"points": 200}, headers=bearer(keys.test))
    ).json()
    endpoint = (
        await gateway.post(
            "/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/h"}, headers=bearer(keys.test)
        )
    ).json()
    event_list = (await gateway.get("/v1/events", headers=bearer(keys.test))).json()
    wid = endpoint["id"]
    routes: list[tuple[str, str, Any]] = [
        ("GET", f"/v1/members/{mid}", None),
        ("POST", f"/v1/members/{mid}/earn", {"points": 1}),
        ("POST", f"/v1/members/{mid}/redeem", {"points": 1}),
        ("GET", f"/v1/members/{mid}/transactions", None),
        ("POST", f"/v1/transactions/{txn['transaction']['id']}/reverse", {}),
        ("GET", f"/v1/webhook_endpoints/{wid}", None),
        ("DELETE", f"/v1/webhook_endpoints/{wid}", None),
        ("POST", f"/v1/webhook_endpoints/{wid}/rotate_secret", {}),
        ("POST", f"/v1/webhook_endpoints/{wid}/enable", None),
        ("POST", f"/v1/webhook_endpoints/{wid}/test", None),
        ("GET", f"/v1/webhook_endpoints/{wid}/deliveries", None),
        ("POST", f"/v1/webhook_endpoints/{wid}/replay", {"since": "2000-01-01T00:00:00Z"}),
    ]
    routes += [("GET", f"/v1/events/{e['id']}", None) for e in event_list["data"]]
    for key in (keys.live, keys.other):
        for method, path, body in routes:
            response = await gateway.request(method, path, json=body, headers=bearer(key))
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["code"] == "not_found"
        found = (await gateway.get("/v1/members?external_id=", headers=bearer(key))).json()
        assert mid not in str(found)
        assert (await gateway.get("/v1/webhook_endpoints", headers=bearer(key))).json()["data"] == []
        assert (await gateway.get("/v1/events", headers=bearer(key))).json()["data"] == []
    # The owner still sees it all: nothing above changed anything.
    assert (await gateway.get(f"/v1/members/{mid}", headers=bearer(keys.test))).json()["balance"] == 200


async def test_scopes_limit_what_a_key_may_do(gateway: Client, keys: Keys) -> None:
    mid = (await enrol(gateway, keys.test))["id"]
    assert (await gateway.get(f"/v1/members/{mid}", headers=bearer(keys.read_only))).status_code == 200
    for method, path, body in (
        ("POST", "/v1/members", {"name": "x"}),
        ("POST", f"/v1/members/{mid}/earn", {"points": 1}),
        ("GET", "/v1/webhook_endpoints", None),
        ("GET", "/v1/events", None),
    ):
        response = await gateway.request(method, path, json=body, headers=bearer(keys.read_only))
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "insufficient_scope"


async def test_an_unreachable_service_is_a_502_problem(
    settings: Settings, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    dark = msgspec.structs.replace(settings, ledger_url="http://127.0.0.1:1")
    async with AsyncTestClient(app=build_app(dark, verifier=tokens.verifier())) as client:
        staff = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
        key = (await client.post("/internal/v1/api_keys", json={"name": "k"}, headers=staff)).json()["secret"]
        response = await client.get("/v1/rewards", headers=bearer(key))
    assert response.status_code == 502
    assert response.json()["code"] == "upstream_unavailable"


async def test_the_openapi_document_describes_the_partner_api(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in ("/v1/members", "/v1/members/{member_id}/earn", "/v1/webhook_endpoints", "/v1/events"):
        assert path in schema["paths"], path
    earn = schema["paths"]["/v1/members/{member_id}/earn"]["post"]
    assert "examples" in str(earn)
    assert (await client.get("/schema/docs")).status_code == 200


async def test_the_program_comes_from_the_tenant_service(
    settings: Settings,
    tokens: TestTokens,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
) -> None:
    from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
    from nujoomy_kit.ids import encode_id
    from nujoomy_tenant import provisioning
    from nujoomy_tenant.app import build_app as build_tenant
    from nujoomy_tenant.settings import load as load_tenant

    tenant_db = await make_db("tenant", TENANT_MIGRATIONS)
    engine = make_engine(tenant_db, pool_size=1)
    async with transaction(make_sessionmaker(engine)) as db:
        created = await provisioning.create_tenant(
            db,
            provisioning.NewTenant(
                slug="gw-cafe",
                name="Gw Cafe",
                owner_email="o@gw.test",
                owner_password="correct horse battery",
            ),
            invite_ttl=3600,
        )
    await engine.dispose()
    tenant_settings = load_tenant(
        {},
        database_url=tenant_db,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix + "tenant:",
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
    )
    async with served(build_tenant(tenant_settings)) as tenant_url:
        routed = msgspec.structs.replace(settings, tenant_url=tenant_url)
        async with AsyncTestClient(app=build_app(routed, verifier=tokens.verifier())) as client:
            answers = {}
            for tid, mode in ((created.tenant_id, "test"), (uuid.uuid4(), "test")):
                staff = tokens.headers(tokens.staff(tid, role="owner"), mode=mode)  # type: ignore[arg-type]
                key = (await client.post("/internal/v1/api_keys", json={"name": "k"}, headers=staff)).json()[
                    "secret"
                ]
                answers[tid] = await client.get("/v1/program", headers=bearer(key))
    mine = answers[created.tenant_id]
    assert mine.status_code == 200, mine.text
    assert encode_id("prg", created.program_id) in mine.text
    others = [a for t, a in answers.items() if t != created.tenant_id]
    assert all(encode_id("prg", created.program_id) not in a.text for a in others)


async def test_one_person_is_one_member_a_known_contact_answers_409_with_the_member(
    gateway: Client, keys: Keys
) -> None:
    lina = await enrol(gateway, keys.test, email="lina@example.com", phone="+33 6 12 34 56 78")
    assert lina["phone"] == "+33612345678"  # E.164, as SMS providers take it
    for fields in ({"email": " LINA@example.com"}, {"phone": "+33612345678"}):
        again = await gateway.post("/v1/members", json={"name": "Lina", **fields}, headers=bearer(keys.test))
        assert again.status_code == 409, fields
        assert again.headers["content-type"].startswith("application/problem+json")
        assert (again.json()["code"], again.json()["member_id"]) == ("member_exists", lina["id"])
    listed = await gateway.get("/v1/members", headers=bearer(keys.test))
    assert [m["id"] for m in listed.json()["data"]] == [lina["id"]]
    # Another tenant's partner enrols the same person as its own member: nothing is shared.
    assert (await enrol(gateway, keys.other, email="lina@example.com"))["id"] != lina["id"]
    bad = await gateway.post("/v1/members", json={"phone": "12 34"}, headers=bearer(keys.test))
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_phone")
    assert "regex" not in bad.text
