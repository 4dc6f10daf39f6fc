"""A service outside dev mode refuses to start with an empty secret or one still holding a placeholder
from the repository (`dev-unsubscribe-secret-change-me`, `CHANGE-ME` and `PLACEHOLDER` in deploy/),
naming the environment variable to set; in dev mode the same settings start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nujoomy_kit.settings import placeholder_secrets
from nujoomy_testing.tokens import TestTokens

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("tenant", "ledger", "wallet-pass", "notification", "partner-gateway")


def _prefix(service: str) -> str:
    return f"NUJOOMY_{service.upper().replace('-', '_')}_"


def _start(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NUJOOMY_")}
    package = "nujoomy_" + service.replace("-", "_")
    return subprocess.run(
        [sys.executable, "-m", package, "api"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_refuses_to_start_without_its_keys_naming_them(service: str) -> None:
    started = _start(service, {"NUJOOMY_LOG_JSON": "false"})
    assert started.returncode != 0
    for name in ("INTERNAL_PRIVATE_KEY", "INTERNAL_KEYSET"):
        assert _prefix(service) + name in started.stderr, started.stderr


def test_the_shipped_placeholders_are_refused(tmp_path: Path) -> None:
    """With real keys, notification's default unsubscribe secret and a CHANGE-ME database password
    from deploy/k8s are each named."""
    tokens = TestTokens()
    secrets = {
        d["metadata"]["name"]: d["stringData"]
        for d in yaml.safe_load_all((ROOT / "deploy/k8s/base/secrets.yaml").read_text())
        if d
    }
    env = {
        "NUJOOMY_LOG_JSON": "false",
        "NUJOOMY_INTERNAL_PRIVATE_KEY": tokens.private_pems["notification"],
        "NUJOOMY_INTERNAL_KEYSET": tokens.keyset,
        "NUJOOMY_NOTIFICATION_DATABASE_URL": secrets["nujoomy-notification-db"]["database-url"],
    }
    started = _start("notification", env)
    assert started.returncode != 0
    assert "NUJOOMY_NOTIFICATION_UNSUBSCRIBE_SECRET" in started.stderr, started.stderr
    assert "NUJOOMY_NOTIFICATION_DATABASE_URL" in started.stderr, started.stderr
    assert "NUJOOMY_NOTIFICATION_INTERNAL_PRIVATE_KEY" not in started.stderr  # a real key passes


def test_every_placeholder_secret_in_deploy_k8s_is_refused(tmp_path: Path) -> None:
    from nujoomy_notification.settings import load as load_notification
    from nujoomy_partner_gateway.settings import load as load_gateway
    from nujoomy_wallet_pass.settings import load as load_wallet

    secrets = {
        d["metadata"]["name"]: d["stringData"]
        for d in yaml.safe_load_all((ROOT / "deploy/k8s/base/secrets.yaml").read_text())
        if d
    }
    for name, text in secrets["nujoomy-internal-keyset"].items():
        (tmp_path / name).write_text(text)
    (tmp_path / "private.pem").write_text(secrets["nujoomy-wallet-pass-internal-key"]["private.pem"])
    (tmp_path / "member-link.pem").write_text(secrets["nujoomy-member-link-key"]["member-link.pem"])
    keys = {
        "internal_private_key": str(tmp_path / "private.pem"),
        "internal_keyset": str(tmp_path / "keyset.json"),
    }
    infra = {
        "amqp_url": secrets["nujoomy-infra"]["amqp-url"],
        "redis_url": secrets["nujoomy-infra"]["redis-url"],
    }
    wallet = load_wallet(
        {},
        **keys,
        **infra,
        database_url=secrets["nujoomy-wallet-pass-db"]["database-url"],
        member_link_private_key=str(tmp_path / "member-link.pem"),
        download_secret=secrets["nujoomy-wallet-pass"]["download-secret"],
    )
    assert set(placeholder_secrets(wallet, "wallet-pass")) == {
        "NUJOOMY_WALLET_PASS_" + n.upper()
        for n in (
            "internal_private_key",
            "internal_keyset",
            "member_link_private_key",
            "download_secret",
            "database_url",
            "amqp_url",
            "redis_url",
        )
    }
    notification = load_notification(
        {},
        sms_url="https://sms.example",
        smtp_username="relay",
        smtp_password=secrets["nujoomy-notification"]["smtp-password"],
        sms_secret=secrets["nujoomy-notification"]["sms-secret"],
        unsubscribe_secret=secrets["nujoomy-notification"]["unsubscribe-secret"],
    )
    assert {
        "NUJOOMY_NOTIFICATION_" + n for n in ("SMTP_PASSWORD", "SMS_SECRET", "UNSUBSCRIBE_SECRET")
    } <= set(placeholder_secrets(notification, "notification"))
    gateway = load_gateway({}, member_link_public_key=str(tmp_path / "member-link.pub.pem"))
    assert "NUJOOMY_PARTNER_GATEWAY_MEMBER_LINK_PUBLIC_KEY" in placeholder_secrets(gateway, "partner-gateway")
    # Dev mode (`make up`) starts with the local defaults.
    assert placeholder_secrets(load_notification({}, dev_mode=True), "notification") == []
