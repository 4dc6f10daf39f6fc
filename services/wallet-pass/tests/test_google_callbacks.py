"""Google Wallet save/delete callbacks: the class names {PUBLIC_URL}/google/callbacks, the fake (playing
a user) posts an ECv2SigningOnly message signed as Google signs it, and the service verifies it against
the root keys at its keys URL, marks the pass saved and publishes wallet.pass.installed / removed once
per nonce. Forged, misaddressed and expired callbacks are refused and publish nothing."""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from nujoomy_contracts import decode_envelope
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass.app import build_app
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.domain.google_callbacks import (
    CallbackExpired,
    CallbackRejected,
    CallbackSignatureInvalid,
    RootKey,
    length_value,
    sign_callback,
    verify_callback,
)
from nujoomy_wallet_pass.domain.google_objects import loyalty_class, loyalty_object
from nujoomy_wallet_pass.domain.links import google_class_id, google_object_id, pass_id
from nujoomy_wallet_pass.fakes.google import GoogleFakeState
from nujoomy_wallet_pass.google import GoogleClient, ServiceAccount
from nujoomy_wallet_pass.render import build_content
from nujoomy_wallet_pass.settings import Settings
from wallet_pass_helpers import apply, enrolled, program, program_updated

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a0d1")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b0d1")
ISSUER = "3388000000022000000"
NOW_MS = 1_800_000_000_000


def keys() -> tuple[ec.EllipticCurvePrivateKey, ec.EllipticCurvePrivateKey]:
    return ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())


def signed(
    root: ec.EllipticCurvePrivateKey,
    intermediate: ec.EllipticCurvePrivateKey,
    *,
    recipient: str = ISSUER,
    key_expires: int = NOW_MS + 60_000,
    message_expires: int = NOW_MS + 60_000,
) -> bytes:
    message = {
        "classId": f"{ISSUER}.c",
        "objectId": f"{ISSUER}.o",
        "expTimeMillis": message_expires,
        "eventType": "save",
        "nonce": uuid.uuid4().hex,
    }
    body = sign_callback(
        message,
        root=root,
        intermediate=intermediate,
        intermediate_expires_ms=key_expires,
        recipient_id=recipient,
    )
    return msgspec.json.encode(body)


def test_lengths_are_four_byte_little_endian_prefixes() -> None:
    assert length_value("ab", "") == b"\x02\x00\x00\x00ab\x00\x00\x00\x00"
    assert length_value("é") == b"\x02\x00\x00\x00\xc3\xa9"  # bytes, not characters


def test_the_verifier_accepts_googles_signature_and_nothing_else() -> None:
    root, intermediate = keys()
    roots = [RootKey(root.public_key(), NOW_MS + 1)]
    message = verify_callback(signed(root, intermediate), roots, recipient_id=ISSUER, now_ms=NOW_MS)
    assert (message.eventType, message.objectId) == ("save", f"{ISSUER}.o")
    with pytest.raises(CallbackSignatureInvalid):  # for another issuer: the recipient id is signed
        verify_callback(
            signed(root, intermediate, recipient="1234"), roots, recipient_id=ISSUER, now_ms=NOW_MS
        )
    stranger, _ = keys()
    with pytest.raises(CallbackSignatureInvalid):  # intermediate key signed by a key that is not Google's
        verify_callback(signed(stranger, intermediate), roots, recipient_id=ISSUER, now_ms=NOW_MS)
    with pytest.raises(CallbackSignatureInvalid):  # Google's root key, but expired
        verify_callback(
            signed(root, intermediate),
            [RootKey(root.public_key(), NOW_MS)],
            recipient_id=ISSUER,
            now_ms=NOW_MS,
        )
    tampered = msgspec.json.decode(signed(root, intermediate))
    tampered["signedMessage"] = tampered["signedMessage"].replace('"save"', '"del"')
    with pytest.raises(CallbackSignatureInvalid):
        verify_callback(msgspec.json.encode(tampered), roots, recipient_id=ISSUER, now_ms=NOW_MS)
    swapped = msgspec.json.decode(signed(root, intermediate))
    _, other_intermediate = keys()
    # A valid-looking intermediate key the root never signed.
    swapped["intermediateSigningKey"] = msgspec.json.decode(signed(root, other_intermediate))[
        "intermediateSigningKey"
    ]
    with pytest.raises(CallbackSignatureInvalid):
        verify_callback(msgspec.json.encode(swapped), roots, recipient_id=ISSUER, now_ms=NOW_MS)
    with pytest.raises(CallbackExpired):
        verify_callback(
            signed(root, intermediate, key_expires=NOW_MS), roots, recipient_id=ISSUER, now_ms=NOW_MS
        )
    with pytest.raises(CallbackExpired):
        verify_callback(
            signed(root, intermediate, message_expires=NOW_MS - 1), roots, recipient_id=ISSUER, now_ms=NOW_MS
        )
    wrong_protocol = msgspec.json.decode(signed(root, intermediate))
    wrong_protocol["protocolVersion"] = "ECv2"
    with pytest.raises(CallbackRejected):
        verify_callback(msgspec.json.encode(wrong_protocol), roots, recipient_id=ISSUER, now_ms=NOW_MS)
    with pytest.raises(CallbackRejected):
        verify_callback(b"{}", roots, recipient_id=ISSUER, now_ms=NOW_MS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def outbox(settings: Settings) -> list[tuple[str, bytes]]:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return [
            (r[0], bytes(r[1])) for r in await conn.fetch("SELECT routing_key, body FROM outbox ORDER BY seq")
        ]
    finally:
        await conn.close()


async def scalar(settings: Settings, sql: str) -> object:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def create_at_google(settings: Settings, google_url: str, wallet_dir: Path, member: uuid.UUID) -> str:
    """What the Google sync does at enrolment: class (as our code builds it) and object at Google, and
    the google_objects row."""
    wallet = WalletContext.from_settings(settings)
    content = build_content(
        settings,
        wallet.credentials,
        mode="live",
        member_id=member,
        authentication_token="t" * 32,
        card_token="NJ1-abc",
        balance=0,
        name="Lina",
        program=program(TENANT, PROGRAM),
    )
    class_id = google_class_id(ISSUER, PROGRAM, TENANT, "live")
    object_id = google_object_id(ISSUER, TENANT, "live", member)
    body = loyalty_class(class_id, content, "https://cdn.example/logo.png")
    assert body["callbackOptions"] == {"url": f"{settings.public_url}/google/callbacks"}
    client = GoogleClient(
        f"{google_url}/walletobjects/v1",
        f"{google_url}/token",
        ServiceAccount.load(str(wallet_dir / "google-service-account.json")),
    )
    try:
        await client.upsert("loyaltyClass", body)  # the fake checks the body against Google's schema
        await client.upsert("loyaltyObject", loyalty_object(object_id, class_id, content))
    finally:
        await client.aclose()
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        await conn.execute(
            "INSERT INTO google_objects (pass_id, tenant_id, mode, object_id, class_id, balance_sent) "
            "VALUES ($1, $2, 'live', $3, $4, 0)",
            pass_id(member, "google"),
            TENANT,
            object_id,
            class_id,
        )
    finally:
        await conn.close()
    return object_id


async def test_a_save_and_a_delete_in_google_wallet_are_published_once(
    settings: Settings,
    google: tuple[GoogleFakeState, str],
    wallet_dir: Path,
    tokens: TestTokens,
) -> None:
    state, google_url = google
    port = free_port()
    settings = msgspec.structs.replace(settings, public_url=f"http://127.0.0.1:{port}")
    assert settings.google_callback_keys_url == f"{google_url}/gp/m/issuer/keys"
    member = uuid.uuid4()
    await apply(settings, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, member, PROGRAM))
    object_id = await create_at_google(settings, google_url, wallet_dir, member)
    status_path = f"/internal/v1/members/{encode_id('mbr', member)}/passes"
    auth = tokens.headers(tokens.internal(TENANT))

    async with (
        served(build_app(settings, verifier=tokens.verifier()), port=port) as url,
        httpx.AsyncClient() as http,
    ):

        async def google_installed() -> bool:
            data = (await http.get(f"{url}{status_path}", headers=auth)).json()["data"]
            return bool(next(p for p in data if p["wallet"] == "google")["installed"])

        assert await google_installed() is False  # the object exists; nobody saved it yet
        saved = await http.post(f"{google_url}/fake/save/{object_id}")
        assert saved.json()["callback_status"] == 200
        events = await outbox(settings)
        assert [k for k, _ in events] == ["wallet.pass.installed"]
        installed = decode_envelope(events[0][1])
        data = msgspec.json.decode(installed.data)
        assert data["wallet"] == "google"
        assert data["pass_id"] == str(pass_id(member, "google"))
        assert (installed.tenant_id, installed.mode) == (TENANT, "live")
        assert await google_installed() is True

        # Google retries (same nonce): accepted, nothing published twice.
        replay = await http.post(f"{url}/google/callbacks", json=state.callbacks[-1])
        assert replay.status_code == 200
        # A second save of a saved card (new nonce) changes nothing either.
        assert (await http.post(f"{google_url}/fake/save/{object_id}")).json()["callback_status"] == 200
        assert [k for k, _ in await outbox(settings)] == ["wallet.pass.installed"]

        # Forged, misaddressed, expired: refused, nothing published.
        forged = dict(state.callbacks[-1])
        forged["signedMessage"] = forged["signedMessage"].replace('"save"', '"del"')
        refused = await http.post(f"{url}/google/callbacks", json=forged)
        assert refused.status_code == 401
        assert refused.json()["code"] == "callback_signature_invalid"
        now_ms = int(time.time() * 1000)
        message = {
            "classId": "x",
            "objectId": object_id,
            "expTimeMillis": now_ms + 60_000,
            "eventType": "del",
        }
        elsewhere = sign_callback(
            {**message, "nonce": "n1"},
            root=state.root_key,
            intermediate=state.intermediate_key,
            intermediate_expires_ms=now_ms + 60_000,
            recipient_id="9999000000000000000",
        )
        assert (await http.post(f"{url}/google/callbacks", json=elsewhere)).status_code == 401
        stale = sign_callback(
            {**message, "nonce": "n2", "expTimeMillis": now_ms - 1000},
            root=state.root_key,
            intermediate=state.intermediate_key,
            intermediate_expires_ms=now_ms + 60_000,
            recipient_id=ISSUER,
        )
        expired = await http.post(f"{url}/google/callbacks", json=stale)
        assert expired.status_code == 400
        assert expired.json()["code"] == "callback_expired"
        stranger_root, stranger_intermediate = keys()
        impostor = sign_callback(
            {**message, "nonce": "n3"},
            root=stranger_root,
            intermediate=stranger_intermediate,
            intermediate_expires_ms=now_ms + 60_000,
            recipient_id=ISSUER,
        )
        assert (await http.post(f"{url}/google/callbacks", json=impostor)).status_code == 401
        assert [k for k, _ in await outbox(settings)] == ["wallet.pass.installed"]
        assert await google_installed() is True
        # A genuine callback for an object we do not hold: 404, and its nonce is not used up.
        unknown = sign_callback(
            {**message, "objectId": f"{ISSUER}.unknown", "nonce": "n4"},
            root=state.root_key,
            intermediate=state.intermediate_key,
            intermediate_expires_ms=now_ms + 60_000,
            recipient_id=ISSUER,
        )
        assert (await http.post(f"{url}/google/callbacks", json=unknown)).status_code == 404
        assert await scalar(settings, "SELECT count(*) FROM google_callbacks WHERE nonce = 'n4'") == 0

        deleted = await http.post(f"{google_url}/fake/delete/{object_id}")
        assert deleted.json()["callback_status"] == 200
        events = await outbox(settings)
        assert [k for k, _ in events] == ["wallet.pass.installed", "wallet.pass.removed"]
        assert msgspec.json.decode(decode_envelope(events[1][1]).data)["wallet"] == "google"
        assert await google_installed() is False
