"""Reissuing a lost card voids the old pass and issues a new one: the old serial, its token and its
links never carry the new card's QR, the devices holding the old pass are told, the old Google object
goes INACTIVE and the new card is a new object."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass.fakes.apns import ApnsFake
from nujoomy_wallet_pass.fakes.google import GoogleFakeState
from nujoomy_wallet_pass.settings import Settings
from nujoomy_wallet_pass.worker import build_runner
from wallet_pass_helpers import apply, balance, enrolled, program, program_updated, reissued

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a0e1")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b0e1")
PASS_TYPE = "pass.dev.nujoomy.loyalty"


def pass_json(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("pass.json"))  # type: ignore[no-any-return]


async def apple_pass_row(settings: Settings, member: uuid.UUID) -> tuple[uuid.UUID, str]:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        row = await conn.fetchrow(
            "SELECT id, authentication_token FROM passes WHERE member_id = $1 AND wallet = 'apple'", member
        )
    finally:
        await conn.close()
    assert row is not None
    return row["id"], row["authentication_token"]


async def links(client: AsyncTestClient, tokens: TestTokens, member: uuid.UUID) -> dict[str, Any]:  # type: ignore[type-arg]
    response = await client.get(
        f"/internal/v1/members/{encode_id('mbr', member)}/links",
        headers=tokens.headers(tokens.internal(TENANT)),
    )
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def local(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def test_a_reissued_card_voids_the_old_pass_and_object_and_issues_new_ones(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    apns: ApnsFake,
    google: tuple[GoogleFakeState, str],
    tokens: TestTokens,
) -> None:
    state, _ = google
    member = uuid.uuid4()
    old_card, new_card = f"NJ1-{member.hex[:20]}", f"NJ1-NEW{uuid.uuid4().hex[:17]}"
    await apply(settings, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, member, PROGRAM))
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()
        [old_object_id] = state.objects()
        old_pass, old_token = await apple_pass_row(settings, member)
        old_serial = encode_id("pas", old_pass)
        phone = "3a" * 32
        registered = await client.post(
            f"/apple/v1/devices/lost-phone/registrations/{PASS_TYPE}/{old_serial}",
            json={"pushToken": phone},
            headers={"Authorization": f"ApplePass {old_token}"},
        )
        assert registered.status_code == 201
        old_links = await links(client, tokens, member)
        assert (await client.get(local(old_links["apple_pass_url"]))).status_code == 200

        await apply(settings, reissued(TENANT, member, new_card), balance(TENANT, member, 70, 1))
        await runner.run_until_idle()
        # The device holding the old pass is pushed, so Wallet fetches it and learns it is void.
        await apns.wait_for(1, phone)
        changed = await client.get(f"/apple/v1/devices/lost-phone/registrations/{PASS_TYPE}")
        assert old_serial in changed.json()["serialNumbers"]

        # The old serial with the old token: voided, and never the new card's QR.
        old = await client.get(
            f"/apple/v1/passes/{PASS_TYPE}/{old_serial}", headers={"Authorization": f"ApplePass {old_token}"}
        )
        assert old.status_code == 200
        voided = pass_json(old.content)
        assert voided["voided"] is True
        assert voided["serialNumber"] == old_serial
        assert new_card not in json.dumps(voided)
        assert all(b["message"] == old_card for b in voided.get("barcodes", []))

        # The old download link and card page no longer give out a card.
        assert (await client.get(local(old_links["apple_pass_url"]))).status_code in (404, 410)
        assert (await client.get(local(old_links["card_url"]))).status_code in (404, 410)

        # New links: a new serial with a new token and the new QR.
        new_links = await links(client, tokens, member)
        assert new_links["apple_pass_url"] != old_links["apple_pass_url"]
        assert new_links["google_save_url"] != old_links["google_save_url"]
        download = await client.get(local(new_links["apple_pass_url"]))
        assert download.status_code == 200
        fresh = pass_json(download.content)
        assert fresh["serialNumber"] != old_serial
        assert fresh["authenticationToken"] != old_token
        assert len(fresh["authenticationToken"]) >= 16
        assert [b["message"] for b in fresh["barcodes"]] == [new_card]
        assert "voided" not in fresh
        card_page = await client.get(local(new_links["card_url"]))
        assert card_page.status_code == 200
        # The old token opens neither the new serial nor (by the web service) the new card.
        wrong = await client.get(
            f"/apple/v1/passes/{PASS_TYPE}/{fresh['serialNumber']}",
            headers={"Authorization": f"ApplePass {old_token}"},
        )
        assert wrong.status_code == 401
        right = await client.get(
            f"/apple/v1/passes/{PASS_TYPE}/{fresh['serialNumber']}",
            headers={"Authorization": f"ApplePass {fresh['authenticationToken']}"},
        )
        assert right.status_code == 200
        assert pass_json(right.content)["barcodes"][0]["message"] == new_card
        assert pass_json(right.content)["storeCard"]["primaryFields"][0]["value"] == 70

        # Google: the old object INACTIVE with the old QR at most, the new card a new object.
        objects = state.objects()
        assert objects[old_object_id]["state"] == "INACTIVE"
        assert objects[old_object_id]["barcode"]["value"] != new_card
        [new_object_id] = [o for o in objects if o != old_object_id]
        assert objects[new_object_id]["state"] == "ACTIVE"
        assert objects[new_object_id]["barcode"]["value"] == new_card
        assert objects[new_object_id]["loyaltyPoints"]["balance"] == {"int": 70}
        status = await client.get(
            f"/internal/v1/members/{encode_id('mbr', member)}/passes",
            headers=tokens.headers(tokens.internal(TENANT)),
        )
        by_wallet = {p["wallet"]: p for p in status.json()["data"]}
        assert by_wallet["apple"]["id"] == fresh["serialNumber"]
        assert by_wallet["google"]["google_object_id"] == new_object_id

        # Later changes go to the new card only: the voided pass is not pushed again.
        await apply(settings, balance(TENANT, member, 90, 2))
        await runner.run_until_idle()
        assert len(apns.pushes_for(phone)) == 1
    finally:
        await runner.aclose()


async def test_erasing_a_member_with_a_reissued_card_retires_every_google_object_and_old_links_stay_dead(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    google: tuple[GoogleFakeState, str],
    tokens: TestTokens,
) -> None:
    state, _ = google
    member = uuid.uuid4()
    await apply(settings, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, member, PROGRAM))
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()
        first_links = await links(client, tokens, member)
        await apply(settings, reissued(TENANT, member, "NJ1-SECOND000000000000"))
        await runner.run_until_idle()
        second_links = await links(client, tokens, member)
        await apply(settings, reissued(TENANT, member, "NJ1-THIRD0000000000000"))
        await runner.run_until_idle()
        third = await client.get(local((await links(client, tokens, member))["apple_pass_url"]))
        assert [b["message"] for b in pass_json(third.content)["barcodes"]] == ["NJ1-THIRD0000000000000"]
        for old in (first_links, second_links):
            assert (await client.get(local(old["apple_pass_url"]))).status_code == 410
        objects = state.objects()
        assert sorted(o["state"] for o in objects.values()) == ["ACTIVE", "INACTIVE", "INACTIVE"]

        from wallet_pass_helpers import erased

        await apply(settings, erased(TENANT, member))
        await runner.run_until_idle()
    finally:
        await runner.aclose()
    assert {o["state"] for o in state.objects().values()} == {"INACTIVE"}
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        assert await conn.fetchval("SELECT count(*) FROM google_objects") == 0
    finally:
        await conn.close()
