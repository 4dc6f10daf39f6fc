"""Google Wallet: the fake is as strict as Google's discovery document; the client gets a
service-account token once, inserts and patches, backs off on 429; Save links are skinny JWTs."""

from __future__ import annotations

import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from nujoomy_wallet_pass.fakes.google import GoogleFakeState
from nujoomy_wallet_pass.google import GoogleClient, GoogleError, ServiceAccount, save_url

ISSUER = "3388000000022000000"


def account(wallet_dir: Path) -> ServiceAccount:
    return ServiceAccount.load(str(wallet_dir / "google-service-account.json"))


def a_class(class_id: str) -> dict[str, object]:
    return {
        "id": class_id,
        "issuerName": "Café Noor",
        "programName": "Café Noor Club",
        "programLogo": {"sourceUri": {"uri": "https://cdn.example/logo.png"}},
        "reviewStatus": "UNDER_REVIEW",
        "hexBackgroundColor": "#0A7D4F",
    }


def an_object(object_id: str, class_id: str, points: int) -> dict[str, object]:
    return {
        "id": object_id,
        "classId": class_id,
        "state": "ACTIVE",
        "barcode": {"type": "QR_CODE", "value": "NJ1-abc"},
        "loyaltyPoints": {"label": "Points", "balance": {"int": points}},
    }


async def test_the_fake_refuses_what_google_refuses(
    google: tuple[GoogleFakeState, str], wallet_dir: Path
) -> None:
    state, url = google
    client = GoogleClient(f"{url}/walletobjects/v1", f"{url}/token", account(wallet_dir))
    try:
        class_id = f"{ISSUER}.club"
        assert (await client.call("POST", "/loyaltyClass", a_class(class_id))).status_code == 200
        unknown = await client.call(
            "POST", "/loyaltyObject", {**an_object(f"{ISSUER}.o1", class_id, 1), "points": 5}
        )
        assert unknown.status_code == 400
        error = unknown.json()["error"]
        assert error["code"] == 400
        assert error["status"] == "INVALID_ARGUMENT"
        assert error["message"].startswith('Invalid JSON payload received. Unknown name "points"')
        assert error["errors"][0]["reason"] == "invalid"
        nested = an_object(f"{ISSUER}.o1", class_id, 1)
        nested["loyaltyPoints"] = {"balance": {"integer": 3}}
        response = await client.call("POST", "/loyaltyObject", nested)
        assert (
            "Unknown name \"integer\" at 'loyalty_object.loyalty_points.balance'"
            in response.json()["error"]["message"]
        )
        wrong_enum = {**an_object(f"{ISSUER}.o1", class_id, 1), "state": "ENABLED"}
        response = await client.call("POST", "/loyaltyObject", wrong_enum)
        assert response.status_code == 400
        assert "Invalid value at 'loyalty_object.state'" in response.json()["error"]["message"]
        bad_barcode = {**an_object(f"{ISSUER}.o1", class_id, 1), "barcode": {"type": "QR", "value": "x"}}
        assert (await client.call("POST", "/loyaltyObject", bad_barcode)).status_code == 400
        no_state = an_object(f"{ISSUER}.o1", class_id, 1)
        del no_state["state"]
        response = await client.call("POST", "/loyaltyObject", no_state)
        assert response.status_code == 400
        assert "state" in response.json()["error"]["message"]
        orphan = an_object(f"{ISSUER}.o2", f"{ISSUER}.nope", 1)
        assert (await client.call("POST", "/loyaltyObject", orphan)).status_code == 404
        ok = await client.call("POST", "/loyaltyObject", an_object(f"{ISSUER}.o1", class_id, 1))
        assert ok.status_code == 200
        assert (
            await client.call("POST", "/loyaltyObject", an_object(f"{ISSUER}.o1", class_id, 1))
        ).status_code == 409
        patched = await client.patch(
            "loyaltyObject",
            f"{ISSUER}.o1",
            {"loyaltyPoints": {"balance": {"int": 9}}, "notifyPreference": "NOTIFY_ON_UPDATE"},
        )
        assert patched["loyaltyPoints"]["balance"] == {"int": 9}
        assert patched["state"] == "ACTIVE"
        bad_notify = await client.call("PATCH", f"/loyaltyObject/{ISSUER}.o1", {"notifyPreference": "ALWAYS"})
        assert bad_notify.status_code == 400
        assert state.token_grants == 1  # one token, cached, for all of the above
    finally:
        await client.aclose()


async def test_a_request_without_a_valid_token_is_401_and_a_forged_assertion_is_refused(
    google: tuple[GoogleFakeState, str], wallet_dir: Path
) -> None:
    import httpx

    _, url = google
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{url}/walletobjects/v1/loyaltyObject/{ISSUER}.x", headers={"Authorization": "Bearer nope"}
        )
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    real = account(wallet_dir)
    forged = GoogleClient(
        f"{url}/walletobjects/v1", f"{url}/token", ServiceAccount(real.email, "k", stranger)
    )
    try:
        with pytest.raises(GoogleError) as refused:
            await forged.token()
        assert refused.value.status == 400
    finally:
        await forged.aclose()


async def test_429_is_retried_with_backoff(google: tuple[GoogleFakeState, str], wallet_dir: Path) -> None:
    state, url = google
    client = GoogleClient(f"{url}/walletobjects/v1", f"{url}/token", account(wallet_dir))
    try:
        state.failures.extend([429, 503])
        result = await client.upsert("loyaltyClass", a_class(f"{ISSUER}.retry"))
        assert result["reviewStatus"] == "APPROVED"
        assert state.failures == []
    finally:
        await client.aclose()


def test_the_save_link_is_a_skinny_savetowallet_jwt(wallet_dir: Path) -> None:
    sa = account(wallet_dir)
    object_id = f"{ISSUER}.{uuid.uuid4().hex}"
    link = save_url(sa, object_id)
    assert link.startswith("https://pay.google.com/gp/v/save/")
    token = link.rsplit("/", 1)[1]
    assert len(token) <= 1800
    public = serialization.load_pem_private_key(sa.private_key.encode(), None).public_key()
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="google")  # type: ignore[arg-type]
    assert claims["typ"] == "savetowallet"
    assert claims["iss"] == sa.email
    assert claims["payload"] == {"loyaltyObjects": [{"id": object_id}]}
    assert jwt.get_unverified_header(token)["kid"] == sa.private_key_id


async def test_the_fake_can_be_told_over_http_to_fail_the_next_requests(
    google: tuple[GoogleFakeState, str], wallet_dir: Path
) -> None:
    import httpx

    state, url = google
    client = GoogleClient(f"{url}/walletobjects/v1", f"{url}/token", account(wallet_dir))
    try:
        bearer = {"Authorization": f"Bearer {await client.token()}"}
        async with httpx.AsyncClient() as http:
            told = await http.post(f"{url}/fake/failures", json=[429, 429, 500])
            assert told.status_code == 200
            assert told.json() == {"pending": 3}
            assert (await http.post(f"{url}/fake/failures", json={"status": 429})).status_code == 400
            assert (await http.post(f"{url}/fake/failures", json=[200])).status_code == 400
            answers = []
            for _ in range(4):
                response = await http.post(
                    f"{url}/walletobjects/v1/loyaltyClass", json=a_class(f"{ISSUER}.told"), headers=bearer
                )
                answers.append((response.status_code, response.json().get("error", {}).get("status")))
        assert answers == [
            (429, "RESOURCE_EXHAUSTED"),
            (429, "RESOURCE_EXHAUSTED"),
            (500, "INTERNAL"),
            (200, None),
        ]
        assert state.failures == []
    finally:
        await client.aclose()
