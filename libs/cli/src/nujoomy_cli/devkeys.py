"""Local development material: each service's internal-token key pair, the keyset every service
trusts, and the member-link key pair. Never used outside `make up` and tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nujoomy_kit.tokens import private_pem, public_pem


def _pair(keys: Path, name: str) -> tuple[Path, Path]:
    private, public = keys / f"{name}.pem", keys / f"{name}.pub.pem"
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        private.write_text(private_pem(key))
        private.chmod(0o600)
        public.write_text(public_pem(key.public_key()))
    return private, public


def _prefix(service: str) -> str:
    return f"NUJOOMY_{service.upper().replace('-', '_')}_"


def internal_keys(dev_dir: Path, services: Iterable[str]) -> dict[str, str]:
    """Environment for `services`: each its own `INTERNAL_PRIVATE_KEY`, one shared
    `NUJOOMY_INTERNAL_KEYSET` (caller → public key file), wallet-pass's member-link private key and
    the gateway's copy of its public half."""
    keys = dev_dir / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    keyset: dict[str, str] = {}
    for service in sorted(services):
        private, public = _pair(keys, f"internal-{service}")
        env[_prefix(service) + "INTERNAL_PRIVATE_KEY"] = str(private)
        keyset[service] = str(public)
    keyset_file = keys / "keyset.json"
    keyset_file.write_text(json.dumps(keyset, indent=2) + "\n")
    env["NUJOOMY_INTERNAL_KEYSET"] = str(keyset_file)
    link_private, link_public = _pair(keys, "member-link")
    env[_prefix("wallet-pass") + "MEMBER_LINK_PRIVATE_KEY"] = str(link_private)
    env[_prefix("partner-gateway") + "MEMBER_LINK_PUBLIC_KEY"] = str(link_public)
    return env
