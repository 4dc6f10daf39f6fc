"""A tenant's own Pass Type ID certificate: checked on upload (stable 422 codes), its key sealed at
rest, its passes signed with it (openssl shows it as the signer), the PassKit web service answering
for its pass type id, and APNs pushes on a connection authenticated by it with its topic."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import uuid
import zipfile
from pathlib import Path

import asyncpg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from litestar.testing import AsyncTestClient
from nujoomy_cli.main import main as nujoomy
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass import devcerts
from nujoomy_wallet_pass.domain.certificates import master_key, open_key
from nujoomy_wallet_pass.domain.links import pass_id
from nujoomy_wallet_pass.fakes.apns import ApnsFake
from nujoomy_wallet_pass.settings import Settings
from nujoomy_wallet_pass.worker import build_runner
from wallet_pass_helpers import apply, balance, enrolled, program, program_updated

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a0c1")
OTHER = uuid.UUID("0190f000-0000-7000-8000-00000000a0c2")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b0c1")
OTHER_PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b0c2")
TENANT_TYPE, TENANT_TEAM = "pass.dev.cafe-noor.club", "CAFENOOR01"
PLATFORM_TYPE = devcerts.PASS_TYPE_ID
BASE = "/internal/v1/certificates/apple"


def pem_upload(cert: bytes, key: bytes, password: str = "") -> dict[str, str]:
    return {"certificate": cert.decode(), "private_key": key.decode(), "password": password}


def manager(tokens: TestTokens, tenant: uuid.UUID = TENANT, role: str = "manager") -> dict[str, str]:
    return tokens.headers(tokens.staff(tenant, role), "test")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tenant_cert(wallet_dir: Path) -> tuple[bytes, bytes]:
    return devcerts.mint_pass_cert(wallet_dir, TENANT_TYPE, TENANT_TEAM)


async def download(
    client: AsyncTestClient, tokens: TestTokens, tenant: uuid.UUID, member: uuid.UUID
) -> bytes:  # type: ignore[type-arg]
    links = await client.get(
        f"/internal/v1/members/{encode_id('mbr', member)}/links",
        headers=tokens.headers(tokens.internal(tenant, "test")),
    )
    response = await client.get(links.json()["apple_pass_url"].split("127.0.0.1:8003", 1)[1])
    assert response.status_code == 200, response.text
    return response.content


def signer_of(data: bytes, folder: Path, ca: Path) -> tuple[x509.Certificate, dict[str, object]]:
    """Verify the .pkpass with openssl against the dev CA; return the signer certificate and pass.json."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(folder)
    result = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(folder / "signature"),
            "-content", str(folder / "manifest.json"), "-CAfile", str(ca), "-purpose", "any",
            "-signer", str(folder / "signer.pem"), "-out", "/dev/null",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    signer = x509.load_pem_x509_certificate((folder / "signer.pem").read_bytes())
    return signer, json.loads((folder / "pass.json").read_bytes())


async def test_a_tenant_certificate_signs_its_passes_and_its_pushes(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    tokens: TestTokens,
    wallet_dir: Path,
    tmp_path: Path,
    apns: ApnsFake,
    tenant_cert: tuple[bytes, bytes],
) -> None:
    cert_pem, key_pem = tenant_cert
    uploaded = await client.put(BASE, json=pem_upload(cert_pem, key_pem), headers=manager(tokens))
    assert uploaded.status_code == 200, uploaded.text
    info = uploaded.json()
    fingerprint = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256())
    assert info["pass_type_id"] == TENANT_TYPE
    assert info["team_id"] == TENANT_TEAM
    assert info["fingerprint_sha256"] == fingerprint.hex()
    assert info["mode"] == "test"
    shown = await client.get(BASE, headers=manager(tokens))
    assert shown.json() == info
    assert "PRIVATE KEY" not in shown.text
    assert "key" not in {k.lower() for k in shown.json()}
    # Only managers and owners; and the live plane has no tenant certificate.
    assert (await client.get(BASE, headers=manager(tokens, role="staff"))).status_code == 403
    live = await client.get(BASE, headers=tokens.headers(tokens.staff(TENANT, "owner"), "live"))
    assert live.status_code == 404
    assert live.json()["code"] == "certificate_not_found"

    ours, theirs = uuid.uuid4(), uuid.uuid4()
    await apply(
        settings,
        program_updated(program(TENANT, PROGRAM), mode="test"),
        program_updated(program(OTHER, OTHER_PROGRAM), mode="test"),
        enrolled(TENANT, ours, PROGRAM, mode="test"),
        enrolled(OTHER, theirs, OTHER_PROGRAM, mode="test"),
    )
    signer, pass_json = signer_of(
        await download(client, tokens, TENANT, ours), tmp_path / "ours", wallet_dir / "ca.pem"
    )
    assert signer.public_bytes(serialization.Encoding.PEM) == cert_pem
    assert (pass_json["passTypeIdentifier"], pass_json["teamIdentifier"]) == (TENANT_TYPE, TENANT_TEAM)
    # Another tenant's passes keep the platform certificate.
    signer, pass_json = signer_of(
        await download(client, tokens, OTHER, theirs), tmp_path / "theirs", wallet_dir / "ca.pem"
    )
    assert signer.public_bytes(serialization.Encoding.PEM) == (wallet_dir / "pass.pem").read_bytes()
    assert pass_json["passTypeIdentifier"] == PLATFORM_TYPE

    # The web service answers under the tenant's pass type id, and only under it for that pass.
    serial = encode_id("pas", pass_id(ours, "apple"))
    auth = {"Authorization": f"ApplePass {pass_json_token(tmp_path / 'ours')}"}
    wrong = f"/apple/v1/devices/dev1/registrations/{PLATFORM_TYPE}/{serial}"
    assert (await client.post(wrong, json={"pushToken": "aa" * 32}, headers=auth)).status_code == 404
    path = f"/apple/v1/devices/dev1/registrations/{TENANT_TYPE}/{serial}"
    assert (await client.post(path, json={"pushToken": "aa" * 32}, headers=auth)).status_code == 201
    fetched = await client.get(f"/apple/v1/passes/{TENANT_TYPE}/{serial}", headers=auth)
    assert fetched.status_code == 200
    listed = await client.get(f"/apple/v1/devices/dev1/registrations/{TENANT_TYPE}")
    assert listed.json()["serialNumbers"] == [serial]
    assert (await client.get(f"/apple/v1/devices/dev1/registrations/{PLATFORM_TYPE}")).status_code == 204
    their_serial = encode_id("pas", pass_id(theirs, "apple"))
    their_auth = {"Authorization": f"ApplePass {pass_json_token(tmp_path / 'theirs')}"}
    their_path = f"/apple/v1/devices/dev2/registrations/{PLATFORM_TYPE}/{their_serial}"
    assert (
        await client.post(their_path, json={"pushToken": "bb" * 32}, headers=their_auth)
    ).status_code == 201

    # An earn for each: one batch, two connections, each authenticated by its own certificate (the
    # fake answers 400 DeviceTokenNotForTopic when the topic is not the client certificate's UID).
    await apply(
        settings, balance(TENANT, ours, 40, 1, mode="test"), balance(OTHER, theirs, 7, 1, mode="test")
    )
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()
    finally:
        await runner.apns.aclose()
        if runner.google is not None:
            await runner.google.aclose()
    [push] = await apns.wait_for(1, "aa" * 32)
    assert push.topic == TENANT_TYPE
    [push] = await apns.wait_for(1, "bb" * 32)
    assert push.topic == PLATFORM_TYPE

    # Removed: the platform's certificate again.
    assert (await client.delete(BASE, headers=manager(tokens))).status_code == 204
    signer, pass_json = signer_of(
        await download(client, tokens, TENANT, ours), tmp_path / "after", wallet_dir / "ca.pem"
    )
    assert pass_json["passTypeIdentifier"] == PLATFORM_TYPE
    assert (await client.delete(BASE, headers=manager(tokens))).status_code == 404


def pass_json_token(folder: Path) -> str:
    return str(json.loads((folder / "pass.json").read_bytes())["authenticationToken"])


async def test_unusable_uploads_are_refused_with_stable_codes(
    client: AsyncTestClient,  # type: ignore[type-arg]
    tokens: TestTokens,
    wallet_dir: Path,
    tenant_cert: tuple[bytes, bytes],
) -> None:
    cert_pem, key_pem = tenant_cert
    _, other_key = devcerts.mint_pass_cert(wallet_dir, TENANT_TYPE, TENANT_TEAM)
    expired = devcerts.mint_pass_cert(wallet_dir, TENANT_TYPE, TENANT_TEAM, valid_days=(-400, -1))
    stranger = devcerts.mint_pass_cert(wallet_dir, TENANT_TYPE, TENANT_TEAM, issued_by_wwdr=False)
    key = serialization.load_pem_private_key(key_pem, None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    )
    not_pass = ((wallet_dir / "apns-fake.pem").read_bytes(), (wallet_dir / "apns-fake.key").read_bytes())
    cases = [
        (pem_upload(cert_pem, other_key), "certificate_key_mismatch"),
        (pem_upload(*expired), "certificate_expired"),
        (pem_upload(*stranger), "certificate_untrusted"),
        (pem_upload(*not_pass), "certificate_not_pass_type"),
        (pem_upload(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", key_pem),
         "certificate_unreadable"),
        (pem_upload(cert_pem, encrypted, "wrong"), "certificate_unreadable"),
        (pem_upload(cert_pem, encrypted), "certificate_unreadable"),
        ({"p12": "not base64!"}, "certificate_unreadable"),
    ]  # fmt: skip
    for body, code in cases:
        response = await client.put(BASE, json=body, headers=manager(tokens))
        assert response.status_code == 422, (code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    assert (await client.get(BASE, headers=manager(tokens))).status_code == 404  # nothing stored
    # The same key, encrypted, with its password; and as an encrypted .p12.
    ok = await client.put(BASE, json=pem_upload(cert_pem, encrypted, "s3cret"), headers=manager(tokens))
    assert ok.status_code == 200, ok.text
    bundle = pkcs12.serialize_key_and_certificates(
        b"club",
        key,  # type: ignore[arg-type]
        x509.load_pem_x509_certificate(cert_pem),
        None,
        serialization.BestAvailableEncryption(b"p12pass"),
    )
    body = {"p12": base64.b64encode(bundle).decode(), "password": "p12pass"}
    assert (await client.put(BASE, json=body, headers=manager(tokens))).status_code == 200
    body["password"] = "nope"
    assert (await client.put(BASE, json=body, headers=manager(tokens))).json()[
        "code"
    ] == "certificate_unreadable"


async def test_the_key_is_sealed_at_rest_and_bound_to_its_row(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    tokens: TestTokens,
    tenant_cert: tuple[bytes, bytes],
) -> None:
    _cert_pem, key_pem = tenant_cert
    assert (await client.put(BASE, json=pem_upload(*tenant_cert), headers=manager(tokens))).status_code == 200
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        row = await conn.fetchrow("SELECT fingerprint, key_ciphertext FROM tenant_certificates")
    finally:
        await conn.close()
    key = serialization.load_pem_private_key(key_pem, None)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    blob = bytes(row["key_ciphertext"])
    assert der[40:80] not in blob
    assert b"PRIVATE KEY" not in blob
    master = master_key(settings.certificate_encryption_key)
    assert master is not None
    opened = open_key(master, blob, tenant=str(TENANT), mode="test", print_=row["fingerprint"])
    assert opened.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="does not decrypt"):
        open_key(master, blob, tenant=str(OTHER), mode="test", print_=row["fingerprint"])
    with pytest.raises(ValueError, match="does not decrypt"):
        open_key(master, blob, tenant=str(TENANT), mode="live", print_=row["fingerprint"])


async def test_the_cli_uploads_shows_and_removes(
    settings: Settings,
    wallet_dir: Path,
    tmp_path: Path,
    tenant_cert: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    cert_pem, key_pem = tenant_cert
    env = devcerts.wallet_env(
        wallet_dir, settings.apns_base_url, settings.google_base_url, settings.google_token_url
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NUJOOMY_WALLET_PASS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLUB_P12_PASSWORD", "p12pass")
    key = serialization.load_pem_private_key(key_pem, None)
    bundle = pkcs12.serialize_key_and_certificates(
        b"club", key, x509.load_pem_x509_certificate(cert_pem), None,  # type: ignore[arg-type]
        serialization.BestAvailableEncryption(b"p12pass"),
    )  # fmt: skip
    (tmp_path / "club.p12").write_bytes(bundle)
    (tmp_path / "other.key").write_bytes(devcerts.mint_pass_cert(wallet_dir, TENANT_TYPE, TENANT_TEAM)[1])
    (tmp_path / "club.pem").write_bytes(cert_pem)
    ten = encode_id("ten", TENANT)

    def run(*argv: str) -> tuple[int, str, str]:
        code = nujoomy(["wallet", "certs", *argv, "--tenant", ten, "--mode", "test"])
        out = capsys.readouterr()
        return code, out.out, out.err

    # The CLI runs its own event loop: off the test's loop, in a thread.
    code, out, _ = await asyncio.to_thread(
        run, "upload", "--p12", str(tmp_path / "club.p12"), "--password-env", "CLUB_P12_PASSWORD"
    )
    assert code == 0
    assert TENANT_TYPE in out
    assert TENANT_TEAM in out
    code, out, _ = await asyncio.to_thread(run, "show")
    assert code == 0
    assert TENANT_TYPE in out
    assert "PRIVATE" not in out
    code, _, err = await asyncio.to_thread(
        run, "upload", "--cert", str(tmp_path / "club.pem"), "--key", str(tmp_path / "other.key")
    )
    assert code == 2
    assert "certificate_key_mismatch" in err
    code, out, _ = await asyncio.to_thread(run, "remove")
    assert code == 0
    code, out, _ = await asyncio.to_thread(run, "show")
    assert "platform certificate" in out
    assert PLATFORM_TYPE in out
