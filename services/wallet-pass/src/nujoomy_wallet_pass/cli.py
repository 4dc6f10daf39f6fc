"""The wallet-pass service's part of the `nujoomy` CLI: registration with `make up` (dev certificates,
the APNs and Google fakes), `nujoomy wallet iphone` and a tenant's own certificate:

    nujoomy wallet certs upload --tenant <ten_… | uuid | slug> --mode test (--cert F --key F | --p12 F)
                                [--password-env VAR]
    nujoomy wallet certs show|remove --tenant … --mode …
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

from nujoomy_cli.registry import DevProcess, Registry
from nujoomy_cli.settings import DevPorts, dev_ports

from nujoomy_wallet_pass.events.consumers import CONSUMER_NAMES
from nujoomy_wallet_pass.settings import SERVICE, load


def apns_url(ports: DevPorts) -> str:
    return f"https://127.0.0.1:{ports.fake_apns_port}"


def apns_control_url(ports: DevPorts) -> str:
    return f"http://127.0.0.1:{ports.fake_apns_control_port}"


def google_url(ports: DevPorts) -> str:
    return f"http://127.0.0.1:{ports.fake_google_port}"


def wallet_dev_env(dev_dir: Path) -> dict[str, str]:
    """`make up`: generate the development certificates once and point the service at the fakes."""
    from nujoomy_wallet_pass import devcerts

    directory = devcerts.generate(dev_dir / "wallet")
    ports = dev_ports()
    google = google_url(ports)
    return devcerts.wallet_env(directory, apns_url(ports), f"{google}/walletobjects/v1", f"{google}/token")


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
    ports = dev_ports()
    apns, control, google = apns_url(ports), apns_control_url(ports), google_url(ports)
    registry.add_process(
        DevProcess(
            name="apns-fake",
            argv=[
                sys.executable,
                "-m",
                "nujoomy_wallet_pass.fakes.apns",
                "--port",
                str(ports.fake_apns_port),
                "--control-port",
                str(ports.fake_apns_control_port),
                "--cert",
                str(material / "apns-fake.pem"),
                "--key",
                str(material / "apns-fake.key"),
                "--ca",
                str(material / "ca.pem"),
            ],
            ready_url=f"{control}/health",
            banner=f"APNs fake (HTTP/2, client certs): {apns}  pushes: {control}/pushes",
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
                str(ports.fake_google_port),
                "--service-account",
                str(material / "google-service-account.json"),
                "--state-file",
                str(material / "google-fake-state.json"),
            ],
            ready_url=f"{google}/health",
            banner=f"Google Wallet fake: {google}/walletobjects/v1",
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
    certs = sub.add_parser("certs", help="a tenant's own Pass Type ID certificate").add_subparsers(
        dest="certs_command", required=True
    )
    p = _plane(certs.add_parser("upload", help="check and store a certificate + key (PEM or .p12)"))
    p.add_argument("--cert", help="certificate PEM file")
    p.add_argument("--key", help="private key PEM file (may be encrypted)")
    p.add_argument("--p12", help=".p12 file holding both")
    p.add_argument("--password-env", help="name of the environment variable holding the key/.p12 password")
    p.set_defaults(run=_certs_runner(_certs_upload))
    _plane(certs.add_parser("show", help="pass type id, team id, expiry, fingerprint")).set_defaults(
        run=_certs_runner(_certs_show)
    )
    _plane(certs.add_parser("remove", help="back to the platform's certificate")).set_defaults(
        run=_certs_runner(_certs_remove)
    )


def _plane(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--tenant", required=True, help="ten_… id, raw uuid, or slug")
    parser.add_argument("--mode", required=True, choices=["live", "test"])
    return parser


def _certs_runner(command: Any) -> Any:
    """Run a certs command on the service's own database (an operator tool: no running service needed)."""

    def run(args: argparse.Namespace) -> int:
        async def main() -> int:
            from nujoomy_kit.db import transaction
            from nujoomy_kit.resources import database

            from nujoomy_wallet_pass.context import WalletContext

            settings = load()
            tenant_id = await _tenant_id(settings.tenant_url, args.tenant)
            engine, sessions = database(settings)
            try:
                async with transaction(sessions) as db:
                    return int(await command(WalletContext.from_settings(settings), tenant_id, args, db))
            finally:
                await engine.dispose()

        return asyncio.run(main())

    return run


async def _tenant_id(tenant_url: str, text: str) -> uuid.UUID:
    from nujoomy_kit.ids import InvalidId, decode_id

    try:
        return decode_id("ten", text) if text.startswith("ten_") else uuid.UUID(text)
    except (InvalidId, ValueError):
        pass
    import httpx

    # A slug: the tenant service knows it.
    async with httpx.AsyncClient(base_url=tenant_url, timeout=5) as http:
        found = await http.get(f"/internal/v1/tenants/by-slug/{text}")
    value = str(found.json().get("tenant_id") or found.json().get("id") or "") if found.is_success else ""
    if not value:
        raise SystemExit(f"no tenant {text!r} (tenant service said {found.status_code}); give its ten_ id")
    return decode_id("ten", value) if value.startswith("ten_") else uuid.UUID(value)


def _file(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def _print_info(info: Any) -> None:
    print(
        f"{info.mode}  {info.pass_type_id}  team {info.team_id}  expires {info.expires_at.isoformat()}  "
        f"sha256 {info.fingerprint_sha256}"
    )


async def _certs_upload(wallet: Any, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    import os

    from nujoomy_kit.problems import DomainError

    from nujoomy_wallet_pass.api.certificates import certificate_info
    from nujoomy_wallet_pass.domain.certificates import read_upload

    if not (args.p12 or (args.cert and args.key)):
        raise SystemExit("give --cert and --key, or --p12")
    try:
        cert, key = read_upload(
            certificate=_file(args.cert),
            key=_file(args.key),
            p12=_file(args.p12),
            password=os.environ.get(args.password_env, "") if args.password_env else "",
        )
        row = await wallet.signers.upload(db, tenant_id, args.mode, cert, key)
    except DomainError as exc:
        print(f"refused: {exc.code}: {exc}", file=sys.stderr)
        return 2
    _print_info(certificate_info(args.mode, row))
    return 0


async def _certs_show(wallet: Any, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_wallet_pass.api.certificates import certificate_info
    from nujoomy_wallet_pass.db import certificates

    row = await certificates.info(db, tenant_id, args.mode)
    if row is None:
        print(f"{args.mode}  platform certificate {wallet.credentials.pass_type_id} (no tenant certificate)")
        return 0
    _print_info(certificate_info(args.mode, row))
    return 0


async def _certs_remove(wallet: Any, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_wallet_pass.db import certificates

    removed = await certificates.remove(db, tenant_id, args.mode)
    print("removed" if removed else "no tenant certificate")
    return 0 if removed else 1


def _iphone(args: argparse.Namespace) -> int:
    import httpx
    from nujoomy_kit.ids import decode_id
    from nujoomy_kit.settings import read_pem
    from nujoomy_kit.tokens import InternalTokenIssuer

    from nujoomy_wallet_pass.iphone import control_waiter, play_iphone

    settings = load()
    tenant = decode_id("ten", args.tenant) if args.tenant.startswith("ten_") else uuid.UUID(args.tenant)
    # Signed with wallet-pass's own key, so wallet-pass's keyset must list itself to accept it.
    issuer = InternalTokenIssuer(read_pem(settings.internal_private_key), subject=SERVICE)
    token = issuer.issue(tenant, args.mode, to=SERVICE, scopes=("members:read",))

    async def main() -> int:
        async with httpx.AsyncClient(base_url=f"http://{settings.host}:{settings.port}", timeout=30) as http:
            links = await http.get(
                f"/internal/v1/members/{args.member}/links", headers={"Authorization": f"Bearer {token}"}
            )
            links.raise_for_status()
            waiter = control_waiter(apns_control_url(dev_ports()), args.timeout)
            run = await play_iphone(http, links.json()["apple_pass_url"], waiter)
            print(f"balance: {run.balance_after}")
            return 0

    return asyncio.run(main())
