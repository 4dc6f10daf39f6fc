"""Apple's PassKit web service, status code by status code, and the internal API's isolation."""

from __future__ import annotations

import asyncio
import uuid
from email.utils import format_datetime, parsedate_to_datetime

import asyncpg
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass.domain.links import pass_id
from nujoomy_wallet_pass.settings import Settings
from wallet_pass_helpers import apply, balance, enrolled, program, program_updated

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a002")
OTHER = uuid.UUID("0190f000-0000-7000-8000-00000000a003")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b002")
PASS_TYPE = "pass.dev.nujoomy.loyalty"
PUSH = "ab" * 32


async def auth_token(settings: Settings, member: uuid.UUID) -> str:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return str(
            await conn.fetchval(
                "SELECT authentication_token FROM passes WHERE id = $1", pass_id(member, "apple")
            )
        )
    finally:
        await conn.close()


async def outbox_types(settings: Settings) -> list[str]:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return [r[0] for r in await conn.fetch("SELECT routing_key FROM outbox ORDER BY seq")]
    finally:
        await conn.close()


async def a_member(settings: Settings, mode: str = "live") -> tuple[uuid.UUID, str, str]:
    member = uuid.uuid4()
    await apply(
        settings, program_updated(program(TENANT, PROGRAM), mode), enrolled(TENANT, member, PROGRAM, mode)
    )
    return member, encode_id("pas", pass_id(member, "apple")), await auth_token(settings, member)


def reg_path(device: str, serial: str, pass_type: str = PASS_TYPE) -> str:
    return f"/apple/v1/devices/{device}/registrations/{pass_type}/{serial}"


async def test_register_is_201_then_200_and_needs_the_pass_token(
    client: AsyncTestClient, settings: Settings
) -> None:  # type: ignore[type-arg]
    _, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    first = await client.post(reg_path("dev1", serial), json={"pushToken": PUSH}, headers=auth)
    assert first.status_code == 201
    again = await client.post(reg_path("dev1", serial), json={"pushToken": PUSH}, headers=auth)
    assert again.status_code == 200
    for headers in (
        {},
        {"Authorization": "ApplePass wrong-token-wrong-token"},
        {"Authorization": f"Bearer {token}"},
    ):
        refused = await client.post(reg_path("dev2", serial), json={"pushToken": PUSH}, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_pass_token"
    unknown = await client.post(
        reg_path("dev1", encode_id("pas", uuid.uuid4())), json={"pushToken": PUSH}, headers=auth
    )
    assert unknown.status_code == 401
    no_token = await client.post(reg_path("dev3", serial), json={}, headers=auth)
    assert no_token.status_code == 400
    assert no_token.json()["code"] == "invalid_push_token"
    assert await outbox_types(settings) == ["wallet.pass.installed"]  # one install, not two


async def test_unregister_is_200_and_publishes_removed(client: AsyncTestClient, settings: Settings) -> None:  # type: ignore[type-arg]
    _, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    await client.post(reg_path("dev1", serial), json={"pushToken": PUSH}, headers=auth)
    assert (await client.delete(reg_path("dev1", serial))).status_code == 401
    assert (await client.delete(reg_path("dev1", serial), headers=auth)).status_code == 200
    assert await outbox_types(settings) == ["wallet.pass.installed", "wallet.pass.removed"]
    listed = await client.get(f"/apple/v1/devices/dev1/registrations/{PASS_TYPE}")
    assert listed.status_code == 204


async def test_serials_since_a_tag_and_204_when_none(client: AsyncTestClient, settings: Settings) -> None:  # type: ignore[type-arg]
    member, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    await client.post(reg_path("devA", serial), json={"pushToken": PUSH}, headers=auth)
    listed = await client.get(f"/apple/v1/devices/devA/registrations/{PASS_TYPE}")
    assert listed.status_code == 200
    body = listed.json()
    assert body["serialNumbers"] == [serial]
    assert isinstance(body["lastUpdated"], str)  # Wallet breaks on a number here
    tag = body["lastUpdated"]
    nothing = await client.get(
        f"/apple/v1/devices/devA/registrations/{PASS_TYPE}", params={"passesUpdatedSince": tag}
    )
    assert nothing.status_code == 204
    await apply(settings, balance(TENANT, member, 10, 1))
    changed = await client.get(
        f"/apple/v1/devices/devA/registrations/{PASS_TYPE}", params={"passesUpdatedSince": tag}
    )
    assert changed.status_code == 200
    assert changed.json()["serialNumbers"] == [serial]
    assert int(changed.json()["lastUpdated"]) > int(tag)
    assert (await client.get(f"/apple/v1/devices/unknown/registrations/{PASS_TYPE}")).status_code == 204
    bad = await client.get(
        f"/apple/v1/devices/devA/registrations/{PASS_TYPE}", params={"passesUpdatedSince": "x"}
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_since_tag"


async def test_pass_get_and_head_with_last_modified_304_and_401(
    client: AsyncTestClient, settings: Settings
) -> None:  # type: ignore[type-arg]
    member, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    path = f"/apple/v1/passes/{PASS_TYPE}/{serial}"
    got = await client.get(path, headers=auth)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/vnd.apple.pkpass"
    modified = got.headers["last-modified"]
    assert modified.endswith("GMT")
    assert parsedate_to_datetime(modified)
    head = await client.head(path, headers=auth)
    assert head.status_code == 200
    assert head.headers["last-modified"] == modified
    assert head.content == b""
    same = await client.get(path, headers={**auth, "If-Modified-Since": modified})
    assert same.status_code == 304
    assert (await client.head(path, headers={**auth, "If-Modified-Since": modified})).status_code == 304
    # A change in the same second still moves Last-Modified forward, so the device sees it.
    await apply(settings, balance(TENANT, member, 7, 1))
    newer = await client.get(path, headers={**auth, "If-Modified-Since": modified})
    assert newer.status_code == 200
    assert parsedate_to_datetime(newer.headers["last-modified"]) > parsedate_to_datetime(modified)
    assert (await client.get(path)).status_code == 401
    assert (
        await client.get(path, headers={"Authorization": "ApplePass nope-nope-nope-nope"})
    ).status_code == 401
    assert (await client.head(path)).status_code == 401
    other_type = await client.get(f"/apple/v1/passes/pass.other.type/{serial}", headers=auth)
    assert other_type.status_code == 404
    _ = format_datetime


async def test_log_endpoint_takes_device_logs(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/apple/v1/log", json={"logs": ["[2026-11-24] Could not fetch pass"]})
    assert response.status_code == 200


async def test_internal_pass_status_is_isolated_by_tenant_and_mode(
    client: AsyncTestClient,
    tokens: TestTokens,
    settings: Settings,  # type: ignore[type-arg]
) -> None:
    member, serial, token = await a_member(settings)
    await client.post(
        reg_path("devZ", serial), json={"pushToken": PUSH}, headers={"Authorization": f"ApplePass {token}"}
    )
    path = f"/internal/v1/members/{encode_id('mbr', member)}/passes"
    mine = await client.get(path, headers=tokens.headers(tokens.internal(TENANT, "live")))
    assert mine.status_code == 200
    by_wallet = {p["wallet"]: p for p in mine.json()["data"]}
    assert by_wallet["apple"]["installed"] is True
    assert by_wallet["apple"]["devices"] == 1
    assert by_wallet["apple"]["id"] == serial
    assert by_wallet["google"]["installed"] is False
    for headers in (
        tokens.headers(tokens.internal(OTHER, "live")),
        tokens.headers(tokens.internal(TENANT, "test")),
        tokens.headers(tokens.staff(TENANT), mode="test"),
    ):
        hidden = await client.get(path, headers=headers)
        assert hidden.status_code == 404
        assert hidden.json()["code"] == "not_found"
    assert (await client.get(path)).status_code == 401
    staff = await client.get(path, headers=tokens.headers(tokens.staff(TENANT)))
    assert staff.status_code == 200
    bad = await client.get(
        "/internal/v1/members/txn_nope/passes", headers=tokens.headers(tokens.internal(TENANT))
    )
    assert bad.status_code == 404


async def test_concurrent_registrations_of_one_device_count_once(
    client: AsyncTestClient, settings: Settings
) -> None:  # type: ignore[type-arg]
    _, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    results = await asyncio.gather(
        *(client.post(reg_path("devC", serial), json={"pushToken": PUSH}, headers=auth) for _ in range(5))
    )
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1, codes
    assert codes.count(200) == 4, codes
    assert (await outbox_types(settings)).count("wallet.pass.installed") == 1


async def test_an_erased_member_loses_the_pass_and_its_devices(
    client: AsyncTestClient, settings: Settings
) -> None:  # type: ignore[type-arg]
    from wallet_pass_helpers import erased

    member, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    await client.post(reg_path("devE", serial), json={"pushToken": PUSH}, headers=auth)
    await apply(settings, erased(TENANT, member))
    # 401 tells Wallet to stop asking for this pass (Apple DTS); the device list is empty.
    assert (await client.get(f"/apple/v1/passes/{PASS_TYPE}/{serial}", headers=auth)).status_code == 401
    assert (await client.get(f"/apple/v1/devices/devE/registrations/{PASS_TYPE}")).status_code == 204
    assert await outbox_types(settings) == ["wallet.pass.installed", "wallet.pass.removed"]
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        row = await conn.fetchrow("SELECT name, card_token, status FROM members WHERE member_id = $1", member)
    finally:
        await conn.close()
    assert dict(row) == {"name": None, "card_token": "", "status": "erased"}


async def test_a_renamed_member_gets_a_newer_pass(client: AsyncTestClient, settings: Settings) -> None:  # type: ignore[type-arg]
    import io
    import json
    import zipfile

    from wallet_pass_helpers import renamed

    member, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    first = await client.get(f"/apple/v1/passes/{PASS_TYPE}/{serial}", headers=auth)
    await apply(settings, renamed(TENANT, member, "Lina Haddad"))
    second = await client.get(
        f"/apple/v1/passes/{PASS_TYPE}/{serial}",
        headers={**auth, "If-Modified-Since": first.headers["last-modified"]},
    )
    assert second.status_code == 200
    with zipfile.ZipFile(io.BytesIO(second.content)) as zf:
        fields = json.loads(zf.read("pass.json"))["storeCard"]["secondaryFields"]
    assert fields == [{"key": "member", "label": "Member", "value": "Lina Haddad"}]


async def test_registration_refuses_push_tokens_and_device_ids_wallet_never_sends(
    client: AsyncTestClient, settings: Settings
) -> None:  # type: ignore[type-arg]
    _, serial, token = await a_member(settings)
    auth = {"Authorization": f"ApplePass {token}"}
    for bad_push in ("x" * 20_000, "../../3/device/" + "ab" * 32, "ab" * 32 + "\n", "zz" * 32, "ab" * 4):
        refused = await client.post(reg_path("dev1", serial), json={"pushToken": bad_push}, headers=auth)
        assert refused.status_code == 400, bad_push[:40]
        assert refused.json()["code"] == "invalid_push_token"
    for bad_device in ("d" * 20_000, "..dev..", "dev%20one", "dev.1"):
        refused = await client.post(reg_path(bad_device, serial), json={"pushToken": PUSH}, headers=auth)
        assert refused.status_code == 400, bad_device[:40]
        assert refused.json()["code"] == "invalid_device_id"
        listed = await client.get(f"/apple/v1/devices/{bad_device}/registrations/{PASS_TYPE}")
        assert listed.status_code == 400
    assert await outbox_types(settings) == []  # nothing was stored, so nothing was announced
    accepted = await client.post(
        reg_path("0f1e2d3c4b5a69788796a5b4c3d2e1f0", serial), json={"pushToken": PUSH.upper()}, headers=auth
    )
    assert accepted.status_code == 201
