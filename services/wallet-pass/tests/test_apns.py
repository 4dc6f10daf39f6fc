"""The APNs client against the strict local APNs: HTTP/2, client certificate, topic = the certificate's
pass type id, Apple's reason strings, retry only what Apple says may be retried."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest
from nujoomy_wallet_pass.apns import ApnsClient
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.fakes.apns import ApnsFake
from nujoomy_wallet_pass.settings import Settings

TOKEN = "0f" * 32


@pytest.fixture
def wallet(settings: Settings) -> WalletContext:
    return WalletContext.from_settings(settings)


async def test_a_push_is_http2_with_the_pass_topic_and_an_empty_body(
    apns: ApnsFake, wallet: WalletContext, wallet_dir: Path
) -> None:
    client = ApnsClient(wallet.credentials, apns.url, ca_file=str(wallet_dir / "ca.pem"))
    try:
        result = await client.push(TOKEN)
        assert result.ok, result
        [push] = apns.pushes_for(TOKEN)
        assert push.topic == "pass.dev.nujoomy.loyalty"
        assert push.body == b"{}"
        # Many pushes share one connection as concurrent streams.
        results = await asyncio.gather(*(client.push(f"{i:064x}") for i in range(300)))
        assert all(r.ok for r in results)
        assert len(apns.pushes) == 301
        response = await client._http.post(
            f"/3/device/{TOKEN}", content=b"{}", headers={"apns-topic": client.topic}
        )
        assert response.http_version == "HTTP/2"
    finally:
        await client.aclose()


async def test_the_fake_refuses_a_wrong_topic_a_bad_token_and_no_client_certificate(
    apns: ApnsFake, wallet: WalletContext, wallet_dir: Path
) -> None:
    ctx = wallet.credentials.ssl_context(str(wallet_dir / "ca.pem"))
    async with httpx.AsyncClient(http2=True, verify=ctx, base_url=apns.url) as http:
        wrong = await http.post(
            f"/3/device/{TOKEN}", content=b"{}", headers={"apns-topic": "pass.someone.else"}
        )
        assert wrong.status_code == 400
        assert wrong.json() == {"reason": "DeviceTokenNotForTopic"}
        missing = await http.post(f"/3/device/{TOKEN}", content=b"{}")
        assert missing.status_code == 400
        assert missing.json()["reason"] == "MissingTopic"
        bad = await http.post(
            "/3/device/not-a-token", content=b"{}", headers={"apns-topic": wallet.credentials.pass_type_id}
        )
        assert bad.status_code == 400
        assert bad.json()["reason"] == "BadDeviceToken"
        path = await http.post(
            "/4/nowhere", content=b"{}", headers={"apns-topic": wallet.credentials.pass_type_id}
        )
        assert path.status_code == 404
        assert path.json()["reason"] == "BadPath"
    assert apns.pushes == []
    anonymous = ssl.create_default_context(cafile=str(wallet_dir / "ca.pem"))
    anonymous.set_alpn_protocols(["h2"])
    async with httpx.AsyncClient(http2=True, verify=anonymous, base_url=apns.url) as http:
        with pytest.raises(httpx.TransportError):  # TLS refuses a client without a certificate
            await http.post(
                f"/3/device/{TOKEN}", content=b"{}", headers={"apns-topic": wallet.credentials.pass_type_id}
            )


async def test_410_is_final_429_and_500_are_retried_400_is_not(
    apns: ApnsFake, wallet: WalletContext, wallet_dir: Path
) -> None:
    client = ApnsClient(wallet.credentials, apns.url, ca_file=str(wallet_dir / "ca.pem"))
    try:
        gone, busy, broken, rejected = "a1" * 32, "b2" * 32, "c3" * 32, "d4" * 32
        apns.answer(gone, 410)
        apns.answer(busy, 429, times=2)
        apns.answer(broken, 500, times=1)
        apns.answer(rejected, 400)
        result = await client.push(gone)
        assert (result.status, result.reason, result.unregistered) == (410, "Unregistered", True)
        assert [r for r in apns.rejected if r[0] == gone] == [(gone, 410, "Unregistered")]
        assert (await client.push(busy)).ok
        assert [r[1] for r in apns.rejected if r[0] == busy] == [429, 429]
        assert (await client.push(broken)).ok
        result = await client.push(rejected)
        assert result.status == 400
        assert len([r for r in apns.rejected if r[0] == rejected]) == 1  # not retried
        assert apns.pushes_for(gone) == []
        assert len(apns.pushes_for(busy)) == 1
    finally:
        await client.aclose()
