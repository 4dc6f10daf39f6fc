"""The wallet-pass service's part of the `nujoomy` CLI: registration with `make up` (dev certificates,
the APNs and Google fakes) and `nujoomy wallet iphone`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from nujoomy_cli.registry import DevProcess, Registry

from nujoomy_wallet_pass.events.consumers import CONSUMER_NAMES
from nujoomy_wallet_pass.settings import (
    FAKE_APNS_CONTROL_PORT,
    FAKE_APNS_PORT,
    FAKE_GOOGLE_PORT,
    SERVICE,
    load,
)

APNS_URL = f"https://127.0.0.1:{FAKE_APNS_PORT}"
APNS_CONTROL_URL = f"http://127.0.0.1:{FAKE_APNS_CONTROL_PORT}"
GOOGLE_URL = f"http://127.0.0.1:{FAKE_GOOGLE_PORT}"


def wallet_dev_env(dev_dir: Path) -> dict[str, str]:
    """`make up`: generate the development certificates once and point the service at the fakes."""
    from nujoomy_wallet_pass import devcerts

    directory = devcerts.generate(dev_dir / "wallet")
    return devcerts.wallet_env(directory, APNS_URL, f"{GOOGLE_URL}/walletobjects/v1", f"{GOOGLE_URL}/token")


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    settings = load()
    registry.add_service(
        SERVICE,
        package="nujoomy_wallet_pass",
        url=f"http://{settings.host}:{settings.port}",
        database_url=settings.database_url,
        migrations="nujoomy_wallet_pass.__main__:MIGRATIONS",
        consumers=CONSUMER_NAMES,
    )
    registry.add_dev_env(wallet_dev_env)
    from nujoomy_cli.dev import dev_dir

    material = dev_dir() / "wallet"
    registry.add_process(
        DevProcess(
            name="apns-fake",
            argv=[
                sys.executable,
                "-m",
                "nujoomy_wallet_pass.fakes.apns",
                "--port",
                str(FAKE_APNS_PORT),
                "--control-port",
                str(FAKE_APNS_CONTROL_PORT),
                "--cert",
                str(material / "apns-fake.pem"),
                "--key",
                str(material / "apns-fake.key"),
                "--ca",
                str(material / "ca.pem"),
            ],
            ready_url=f"{APNS_CONTROL_URL}/health",
            banner=f"APNs fake (HTTP/2, client certs): {APNS_URL}  pushes: {APNS_CONTROL_URL}/pushes",
        )
    )
    registry.add_process(
        DevProcess(
            name="google-wallet-fake",
            argv=[
                sys.executable,
                "-m",
                "nujoomy_wallet_pass.fakes.google",
                "--port",
                str(FAKE_GOOGLE_PORT),
                "--service-account",
                str(material / "google-service-account.json"),
            ],
            ready_url=f"{GOOGLE_URL}/health",
            banner=f"Google Wallet fake: {GOOGLE_URL}/walletobjects/v1",
        )
    )
    group = commands.add_parser("wallet", help="wallet passes: play an iPhone against the running system")
    sub = group.add_subparsers(dest="wallet_command", required=True)
    p = sub.add_parser("iphone", help="download a member's pass, register, wait for a push, fetch the update")
    p.add_argument("--member", required=True, help="mbr_… id")
    p.add_argument("--tenant", required=True, help="ten_… id (or the raw uuid)")
    p.add_argument("--mode", choices=["live", "test"], default="test")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the push")
    p.set_defaults(run=_iphone)


def _iphone(args: argparse.Namespace) -> int:
    import uuid

    import httpx
    from nujoomy_kit.ids import decode_id
    from nujoomy_kit.settings import read_pem
    from nujoomy_kit.tokens import InternalTokenIssuer

    from nujoomy_wallet_pass.iphone import control_waiter, play_iphone

    settings = load()
    tenant = decode_id("ten", args.tenant) if args.tenant.startswith("ten_") else uuid.UUID(args.tenant)
    issuer = InternalTokenIssuer(read_pem(settings.internal_private_key), subject="cli")
    token = issuer.issue(tenant, args.mode, scopes=("read",))

    async def main() -> int:
        async with httpx.AsyncClient(base_url=f"http://{settings.host}:{settings.port}", timeout=30) as http:
            links = await http.get(
                f"/internal/v1/members/{args.member}/links", headers={"Authorization": f"Bearer {token}"}
            )
            links.raise_for_status()
            run = await play_iphone(
                http, links.json()["apple_pass_url"], control_waiter(APNS_CONTROL_URL, args.timeout)
            )
            print(f"balance: {run.balance_after}")
            return 0

    return asyncio.run(main())
