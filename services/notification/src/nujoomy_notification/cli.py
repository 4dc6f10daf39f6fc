"""The notification service's part of the `nujoomy` CLI, and its dev fakes for `make up`."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from nujoomy_cli.registry import DevProcess, Registry
from nujoomy_cli.settings import dev_ports

from nujoomy_notification.events.consumers import CONSUMER_NAMES
from nujoomy_notification.settings import SERVICE, load


def _dev_secret(dev_dir: Path, name: str) -> str:
    path = dev_dir / "keys" / f"{name}.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def dev_env(dev_dir: Path) -> dict[str, str]:
    """Point live and test mode at the local fakes: in development nothing leaves the machine."""
    secret = _dev_secret(dev_dir, "sms-fake")
    ports = dev_ports()
    prefix = "NUJOOMY_NOTIFICATION_"
    return {
        f"{prefix}SMTP_HOST": "127.0.0.1",
        f"{prefix}SMTP_PORT": str(ports.fake_smtp_port),
        f"{prefix}SMTP_STARTTLS": "false",
        f"{prefix}SANDBOX_SMTP_HOST": "127.0.0.1",
        f"{prefix}SANDBOX_SMTP_PORT": str(ports.fake_smtp_port),
        f"{prefix}SMS_URL": f"http://127.0.0.1:{ports.fake_sms_port}/messages",
        f"{prefix}SANDBOX_SMS_URL": f"http://127.0.0.1:{ports.fake_sms_port}/messages",
        f"{prefix}SMS_SECRET": secret,
        f"{prefix}UNSUBSCRIBE_SECRET": _dev_secret(dev_dir, "unsubscribe"),
    }


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    settings = load()
    registry.add_service(
        SERVICE,
        package="nujoomy_notification",
        url=f"http://{settings.host}:{settings.port}",
        database_url=settings.database_url,
        migrations="nujoomy_notification.__main__:MIGRATIONS",
        consumers=CONSUMER_NAMES,
    )
    registry.add_dev_env(dev_env)
    ports = dev_ports()
    smtp, mail, sms = ports.fake_smtp_port, ports.fake_mail_port, ports.fake_sms_port
    registry.add_process(
        DevProcess(
            name="smtp-sink",
            argv=[
                sys.executable,
                "-m",
                "nujoomy_notification.fakes.smtp_sink",
                "--smtp-port",
                str(smtp),
                "--http-port",
                str(mail),
            ],
            ready_url=f"http://127.0.0.1:{mail}/messages",
            banner=f"SMTP sink: smtp://127.0.0.1:{smtp}, mail at http://127.0.0.1:{mail}/",
        )
    )
    registry.add_process(
        DevProcess(
            name="sms-fake",
            # The secret is read from the dev env at start (see dev_env), not put on the command line.
            argv=[
                sys.executable,
                "-m",
                "nujoomy_notification.fakes.sms_provider",
                "--port",
                str(sms),
            ],
            ready_url=f"http://127.0.0.1:{sms}/messages",
            banner=f"SMS provider fake: texts at http://127.0.0.1:{sms}/messages",
        )
    )
