"""API keys: format and checksum, creation by managers, revoke within a second on every replica, roll."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import plain_url
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.domain.errors import InvalidApiKey
from nujoomy_partner_gateway.domain.keys import MalformedKey, generate_key, parse_key
from nujoomy_partner_gateway.edge.keystore import KeyStore
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens

from .conftest import Client, MakeKey, bearer, listening


def test_a_key_has_its_mode_prefix_32_random_characters_and_a_checksum() -> None:
    key = generate_key("live")
    assert key.startswith("nj_live_")
    assert len(key) == 8 + 32 + 6
    assert parse_key(key).mode == "live"
    assert parse_key(generate_key("test")).mode == "test"


@given(st.integers(min_value=8, max_value=45), st.sampled_from("0123456789abcdefXYZ"))
def test_any_single_character_change_fails_the_checksum(position: int, replacement: str) -> None:
    key = generate_key("test")
    changed = key[:position] + replacement + key[position + 1 :]
    if changed != key:
        with pytest.raises(MalformedKey):
            parse_key(changed)


async def test_malformed_keys_are_refused_before_any_io() -> None:
    # No database and no Redis behind this store: reaching either would raise AttributeError.
    store = KeyStore(sessions=None, client=None, prefix="")  # type: ignore[arg-type]
    good = generate_key("test")
    for bad in ("", "nj_test_short", "sk_test_" + good[8:], good[:-1] + ("A" if good[-1] != "A" else "B")):
        with pytest.raises(InvalidApiKey):
            await store.verify(bad)


async def test_a_malformed_key_is_a_401_problem(client: Client) -> None:
    response = await client.get("/v1/events", headers=bearer("nj_test_nope"))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_api_key"
    assert (await client.get("/v1/events")).json()["code"] == "invalid_api_key"


async def test_managers_create_keys_shown_once_staff_cannot(
    client: Client, tokens: TestTokens, tenant: uuid.UUID, make_key: MakeKey
) -> None:
    key = await make_key("test", scopes=["read", "webhooks"])
    assert (await client.get("/v1/events", headers=bearer(key))).status_code == 200
    manager = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
    listed = (await client.get("/internal/v1/api_keys", headers=manager)).json()["data"]
    assert [k["secret"] for k in listed] == [None]
    assert listed[0]["redacted"].endswith(key[-4:])
    assert listed[0]["scopes"] == ["read", "webhooks"]
    # The live plane of the same tenant has no keys; a mere staff member may not create one.
    live = tokens.headers(tokens.staff(tenant, role="manager"), mode="live")
    assert (await client.get("/internal/v1/api_keys", headers=live)).json()["data"] == []
    staff = tokens.headers(tokens.staff(tenant, role="staff"), mode="test")
    refused = await client.post("/internal/v1/api_keys", json={"name": "x"}, headers=staff)
    assert refused.status_code == 403


async def test_a_revoke_takes_effect_within_a_second_on_every_replica(
    client: Client, settings: Settings, tokens: TestTokens, tenant: uuid.UUID, make_key: MakeKey
) -> None:
    key = await make_key("test")
    async with AsyncTestClient(app=build_app(settings, verifier=tokens.verifier())) as replica:
        await listening(replica)
        assert (await replica.get("/v1/events", headers=bearer(key))).status_code == 200  # now cached there
        manager = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
        key_id = (await client.get("/internal/v1/api_keys", headers=manager)).json()["data"][0]["id"]
        assert (await client.delete(f"/internal/v1/api_keys/{key_id}", headers=manager)).status_code == 200
        loop = asyncio.get_running_loop()
        revoked_at = loop.time()

        async def status() -> int:
            return (await replica.get("/v1/events", headers=bearer(key))).status_code

        await eventually(status, lambda s: s == 401, timeout=1.0, interval=0.01)
        assert loop.time() - revoked_at < 1.0


async def test_a_rolled_key_keeps_working_for_its_grace_period_only(
    client: Client, tokens: TestTokens, tenant: uuid.UUID, make_key: MakeKey
) -> None:
    old = await make_key("live")
    manager = tokens.headers(tokens.staff(tenant, role="owner"), mode="live")
    key_id = (await client.get("/internal/v1/api_keys", headers=manager)).json()["data"][0]["id"]
    rolled = await client.post(f"/internal/v1/api_keys/{key_id}/roll", headers=manager)
    assert rolled.status_code == 201
    new = rolled.json()["secret"]
    assert rolled.json()["rolled_from"] == key_id
    assert new.startswith("nj_live_")
    assert (await client.get("/v1/events", headers=bearer(old))).status_code == 200
    assert (await client.get("/v1/events", headers=bearer(new))).status_code == 200
    again = await client.post(
        f"/internal/v1/api_keys/{rolled.json()['id']}/roll?grace_seconds=0", headers=manager
    )
    newest = again.json()["secret"]

    async def status() -> int:
        return (await client.get("/v1/events", headers=bearer(new))).status_code

    await eventually(status, lambda s: s == 401, timeout=2)
    assert (await client.get("/v1/events", headers=bearer(newest))).status_code == 200


async def test_last_used_is_recorded_in_batches(
    settings: Settings, tokens: TestTokens, db_url: str, tenant: uuid.UUID
) -> None:
    app = build_app(
        msgspec.structs.replace(settings, last_used_flush_seconds=0.1), verifier=tokens.verifier()
    )
    async with AsyncTestClient(app=app) as client:
        staff = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
        key = (await client.post("/internal/v1/api_keys", json={"name": "pos"}, headers=staff)).json()[
            "secret"
        ]
        assert (await client.get("/v1/events", headers=bearer(key))).status_code == 200

        async def last_used() -> object:
            conn = await asyncpg.connect(plain_url(db_url))
            try:
                return await conn.fetchval("SELECT last_used_at FROM api_keys")
            finally:
                await conn.close()

        await eventually(last_used, lambda v: v is not None, timeout=5)
