"""A member's .pkpass: signed so `openssl cms -verify` accepts it against the dev CA, every file hashed
in the manifest, and pass.json holding Apple's rules and the member's state."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import subprocess
import uuid
import zipfile
from pathlib import Path

import jwt
import pytest
from litestar.testing import AsyncTestClient
from nujoomy_kit.ids import encode_id
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.domain.passjson import PassContent, rgb, store_card, violations
from nujoomy_wallet_pass.images import default_images
from nujoomy_wallet_pass.pkpass import build_pkpass
from nujoomy_wallet_pass.settings import Settings
from wallet_pass_helpers import apply, balance, enrolled, png, program, program_updated, publish_asset

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a001")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b001")


def unpack(data: bytes, into: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    into.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (into / name).write_bytes(content)
    return files


def openssl_verify(folder: Path, ca: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(folder / "signature"),
            "-content",
            str(folder / "manifest.json"),
            "-CAfile",
            str(ca),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def assert_manifest_covers_every_file(files: dict[str, bytes]) -> None:
    manifest = json.loads(files["manifest.json"])
    hashed = {n for n in files if n not in ("manifest.json", "signature")}
    assert set(manifest) == hashed
    for name in hashed:
        assert manifest[name] == hashlib.sha1(files[name]).hexdigest()


async def issued_pass(
    client: AsyncTestClient, tokens: TestTokens, member: uuid.UUID, mode: str = "live"
) -> bytes:  # type: ignore[type-arg]
    headers = tokens.headers(tokens.internal(TENANT, mode))  # type: ignore[arg-type]
    links = (
        await client.get(f"/internal/v1/members/{encode_id('mbr', member)}/links", headers=headers)
    ).json()
    path = links["apple_pass_url"].split("127.0.0.1:8003", 1)[1]
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apple.pkpass"
    return response.content


async def test_pass_verifies_with_openssl_and_the_manifest_hashes_every_file(
    client: AsyncTestClient,
    tokens: TestTokens,
    settings: Settings,
    wallet_dir: Path,
    tmp_path: Path,
    assets: tuple[str, Path],  # type: ignore[type-arg]
) -> None:
    strip = publish_asset(assets[1], png((200, 30, 30), (750, 246)))
    logo = publish_asset(assets[1], png((10, 10, 10), (320, 100)))
    member = uuid.uuid4()
    await apply(
        settings,
        program_updated(program(TENANT, PROGRAM, images={"strip@2x": strip, "logo@2x": logo})),
        enrolled(TENANT, member, PROGRAM),
        balance(TENANT, member, 120, 1),
    )
    files = unpack(await issued_pass(client, tokens, member), tmp_path / "pass")
    result = openssl_verify(tmp_path / "pass", wallet_dir / "ca.pem")
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    assert_manifest_covers_every_file(files)
    # The tenant's images come from its assets, fetched once per branding version; icons default.
    assert files["strip@2x.png"] == (assets[1] / strip.lstrip("/")).read_bytes()
    assert {"icon.png", "icon@2x.png", "icon@3x.png", "logo@2x.png"} <= set(files)
    printed = subprocess.run(
        [
            "openssl",
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "pass" / "signature"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "signingTime" in printed
    assert "DEVELOPMENT WWDR-like Intermediate" in printed  # the intermediate travels in the signature


async def test_pass_json_meets_apples_rules_and_shows_the_member(
    client: AsyncTestClient,
    tokens: TestTokens,
    settings: Settings,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    member = uuid.uuid4()
    await apply(
        settings,
        program_updated(program(TENANT, PROGRAM)),
        enrolled(TENANT, member, PROGRAM),
        balance(TENANT, member, 42, 3),
    )
    files = unpack(await issued_pass(client, tokens, member), tmp_path / "p")
    pj = json.loads(files["pass.json"])
    assert violations(pj) == []
    assert pj["passTypeIdentifier"] == "pass.dev.nujoomy.loyalty"
    assert pj["teamIdentifier"] == "NUJOOMYDEV"
    assert pj["serialNumber"].startswith("pas_")
    assert pj["webServiceURL"] == "http://127.0.0.1:8003/apple"
    assert len(pj["authenticationToken"]) >= 16
    primary = pj["storeCard"]["primaryFields"][0]
    assert primary["value"] == 42
    assert "%@" in primary["changeMessage"]
    assert pj["barcodes"][0] == {
        "format": "PKBarcodeFormatQR",
        "message": f"NJ1-{member.hex[:20]}",
        "messageEncoding": "iso-8859-1",
        "altText": f"NJ1-{member.hex[:20]}"[-8:],
    }
    assert pj["backgroundColor"] == "rgb(10, 125, 79)"
    backs = {f["key"]: f for f in pj["storeCard"]["backFields"]}
    assert backs["terms"]["value"] == "Points expire never."
    assert backs["email"]["value"] == "hello@cafe-noor.example"
    assert "cafe-noor/preferences" in backs["consent"]["attributedValue"]
    assert "TEST" not in json.dumps(pj["storeCard"]["headerFields"])


async def test_test_mode_pass_is_labelled_test(
    client: AsyncTestClient,
    tokens: TestTokens,
    settings: Settings,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    member = uuid.uuid4()
    await apply(
        settings, program_updated(program(TENANT, PROGRAM), "test"), enrolled(TENANT, member, PROGRAM, "test")
    )
    pj = json.loads(unpack(await issued_pass(client, tokens, member, "test"), tmp_path / "t")["pass.json"])
    assert pj["storeCard"]["headerFields"] == [{"key": "mode", "label": "", "value": "TEST"}]
    assert pj["logoText"].endswith("TEST")
    assert violations(pj) == []


def test_the_rules_catch_what_wallet_refuses() -> None:
    content = PassContent(
        serial="pas_1",
        authentication_token="x" * 16,
        card_token="c",
        balance=1,
        mode="live",
        pass_type_id="pass.x",
        team_id="T",
        organization_name="O",
        web_service_url="https://x/apple",
    )
    good = store_card(content)
    assert violations(good) == []
    bad = json.loads(json.dumps(good))
    bad["authenticationToken"] = "short"
    bad["backgroundColor"] = "#ffffff"
    bad["storeCard"]["primaryFields"][0]["changeMessage"] = "changed"
    bad["storeCard"]["secondaryFields"] = [{"key": f"s{i}", "value": i} for i in range(3)]
    bad["storeCard"]["auxiliaryFields"] = [{"key": "s0", "value": 1}, {"key": "a", "value": 2}]
    del bad["organizationName"]
    found = violations(bad)
    assert "authenticationToken is shorter than 16 characters" in found
    assert "backgroundColor is not rgb(r, g, b)" in found
    assert "changeMessage of balance lacks %@" in found
    assert "more than four secondary and auxiliary fields" in found
    assert "field key s0 is not unique" in found
    assert "missing organizationName" in found
    assert rgb("#0A7D4F") == "rgb(10, 125, 79)"


def test_without_the_intermediate_openssl_refuses_the_chain(
    settings: Settings, wallet_dir: Path, tmp_path: Path
) -> None:
    """Proves the check above is real: a signature missing WWDR does not verify against the root."""
    wallet = WalletContext.from_settings(settings)
    content = PassContent(
        serial="pas_1",
        authentication_token="x" * 16,
        card_token="c",
        balance=1,
        mode="live",
        pass_type_id=wallet.credentials.pass_type_id,
        team_id="T",
        organization_name="O",
        web_service_url="https://x/apple",
    )
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    files = unpack(
        build_pkpass(store_card(content), default_images(None), wallet.credentials), tmp_path / "ok"
    )
    assert openssl_verify(tmp_path / "ok", wallet_dir / "ca.pem").returncode == 0
    # The builder-order pitfall: add_certificate before set_data/add_signer silently drops WWDR.
    wrong = (
        pkcs7.PKCS7SignatureBuilder()
        .add_certificate(wallet.credentials.wwdr)
        .set_data(files["manifest.json"])
        .add_signer(wallet.credentials.certificate, wallet.credentials.key, hashes.SHA256())  # type: ignore[arg-type]
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )
    (tmp_path / "ok" / "signature").write_bytes(wrong)
    assert openssl_verify(tmp_path / "ok", wallet_dir / "ca.pem").returncode != 0


@pytest.mark.parametrize("mode", ["live", "test"])
async def test_a_download_link_is_signed_and_expires(
    client: AsyncTestClient,
    tokens: TestTokens,
    settings: Settings,
    mode: str,  # type: ignore[type-arg]
) -> None:
    member = uuid.uuid4()
    headers = tokens.headers(tokens.internal(TENANT, mode))  # type: ignore[arg-type]
    links = (
        await client.get(f"/internal/v1/members/{encode_id('mbr', member)}/links", headers=headers)
    ).json()
    path = links["apple_pass_url"].split("127.0.0.1:8003", 1)[1]
    assert links["google_save_url"].startswith("https://pay.google.com/gp/v/save/")
    # Links exist before the pass does: the download says so until the enrolment arrives.
    early = await client.get(path)
    assert early.status_code == 404
    assert early.json()["code"] == "pass_not_ready"
    await apply(settings, enrolled(TENANT, member, None, mode))
    assert (await client.get(path)).status_code == 200
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    refused = await client.get(tampered)
    assert refused.status_code == 404
    assert refused.json()["code"] == "invalid_download_link"

    from nujoomy_wallet_pass.domain.links import download_token, read_download_token

    wallet = WalletContext.from_settings(settings)
    expired = download_token(wallet.download_secret, TENANT, mode, member, 1000)  # type: ignore[arg-type]
    assert read_download_token(wallet.download_secret, expired, 2000) is None
    refused = await client.get(f"/apple/passes/{expired}")
    assert refused.status_code == 404
    assert refused.json()["code"] == "invalid_download_link"


async def test_the_card_page_is_one_short_link_offering_both_wallets(
    client: AsyncTestClient,
    tokens: TestTokens,
    settings: Settings,  # type: ignore[type-arg]
) -> None:
    """What an SMS carries: Google's save link is a signed JWT of about a kilobyte, the card page's
    link a fraction of that, and the page leads to both wallets for this member."""
    member = uuid.uuid4()
    await apply(
        settings,
        program_updated(program(TENANT, PROGRAM, color="#0A7D4F")),
        enrolled(TENANT, member, PROGRAM, "live"),
    )
    headers = tokens.headers(tokens.internal(TENANT, "live"))
    links = (
        await client.get(f"/internal/v1/members/{encode_id('mbr', member)}/links", headers=headers)
    ).json()
    card_path = links["card_url"].split("127.0.0.1:8003", 1)[1]
    assert card_path.startswith("/cards/")
    assert len(links["card_url"]) < 160 < len(links["google_save_url"])
    page = await client.get(card_path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "private, no-store"
    assert "Add your Café Noor Club card to your phone" in page.text  # the program's name …
    assert "background: #0A7D4F" in page.text  # … and colours
    apple = re.search(r'id="apple" href="([^"]+)"', page.text)
    google = re.search(r'id="google" href="([^"]+)"', page.text)
    assert apple, page.text
    assert google, page.text
    assert html.unescape(apple.group(1)) == links["apple_pass_url"]
    download = await client.get(html.unescape(apple.group(1)).split("127.0.0.1:8003", 1)[1])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/vnd.apple.pkpass"
    save = jwt.decode(html.unescape(google.group(1)).rsplit("/", 1)[1], options={"verify_signature": False})
    from nujoomy_wallet_pass.domain.links import google_object_id

    object_id = google_object_id(settings.google_issuer_id, TENANT, "live", member)
    assert save["payload"]["loyaltyObjects"] == [{"id": object_id}]
    tampered = await client.get(card_path[:-3] + ("AAA" if not card_path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 404
    assert tampered.json()["code"] == "invalid_download_link"
