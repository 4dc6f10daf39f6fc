"""The iPhone script runs Wallet's whole update loop; `make up` gets certificates and runnable fakes."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass.cli import wallet_dev_env
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.fakes.apns import ApnsFake
from nujoomy_wallet_pass.iphone import control_waiter, play_iphone
from nujoomy_wallet_pass.settings import Settings, load
from nujoomy_wallet_pass.worker import build_runner
from wallet_pass_helpers import apply, balance, enrolled, program, program_updated

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a005")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b005")


async def registrations(settings: Settings) -> int:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM apple_registrations"))
    finally:
        await conn.close()


async def test_the_iphone_script_sees_the_new_balance_after_a_push(
    client: AsyncTestClient,
    tokens: TestTokens,
    settings: Settings,
    apns: ApnsFake,  # type: ignore[type-arg]
) -> None:
    member = uuid.uuid4()
    await apply(
        settings, program_updated(program(TENANT, PROGRAM), "test"), enrolled(TENANT, member, PROGRAM, "test")
    )
    await apply(settings, balance(TENANT, member, 40, 1, "test"))
    links = await client.get(
        f"/internal/v1/members/{encode_id('mbr', member)}/links",
        headers=tokens.headers(tokens.internal(TENANT, "test")),
    )
    lines: list[str] = []
    phone = asyncio.create_task(
        play_iphone(client, links.json()["apple_pass_url"], lambda t: apns.wait_for(1, t), lines.append)
    )
    await eventually(lambda: registrations(settings), lambda n: n == 1)
    # The counter: a scan earns 25 points; the worker's job pushes the phone.
    await apply(settings, balance(TENANT, member, 65, 2, "test"))
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()
    finally:
        await runner.apns.aclose()
    run = await asyncio.wait_for(phone, 15)
    assert (run.balance_before, run.balance_after) == (40, 65)
    assert lines[-1] == "updated pass: balance 40 → 65"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_make_up_material_and_the_apns_fake_process(tmp_path: Path) -> None:
    env = wallet_dev_env(tmp_path)
    material = tmp_path / "wallet"
    assert (material / "pass.pem").exists()
    assert (material / "google-service-account.json").exists()
    first = (material / "pass.pem").read_bytes()
    assert wallet_dev_env(tmp_path) == env
    assert (material / "pass.pem").read_bytes() == first
    settings = load(env)
    wallet = WalletContext.from_settings(settings)
    assert wallet.credentials.pass_type_id == "pass.dev.nujoomy.loyalty"
    assert "DEVELOPMENT" in wallet.credentials.certificate.subject.rfc4514_string()
    port, control = free_port(), free_port()
    argv = [
        sys.executable,
        "-m",
        "nujoomy_wallet_pass.fakes.apns",
        "--port",
        str(port),
        "--control-port",
        str(control),
        "--cert",
        str(material / "apns-fake.pem"),
        "--key",
        str(material / "apns-fake.key"),
        "--ca",
        str(material / "ca.pem"),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:

        async def up() -> int:
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(f"http://127.0.0.1:{control}/health")).status_code
            except httpx.TransportError:
                return 0

        await eventually(up, lambda s: s == 200)
        from nujoomy_wallet_pass.apns import ApnsClient

        apns = ApnsClient(wallet.credentials, f"https://127.0.0.1:{port}", ca_file=str(material / "ca.pem"))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{control}") as http:
                await http.post("/responses", json={"token": "ee" * 32, "status": 410})
            assert (await apns.push("ee" * 32)).status == 410
            assert (await apns.push("ff" * 32)).ok
        finally:
            await apns.aclose()
        await asyncio.wait_for(control_waiter(f"http://127.0.0.1:{control}", timeout=5)("ff" * 32), 10)
    finally:
        proc.terminate()
        proc.wait(10)
