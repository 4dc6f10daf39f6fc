"""Local development material: the internal token key pair. Never used outside `make up` and tests."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nujoomy_kit.tokens import private_pem, public_pem


def internal_keys(dev_dir: Path) -> dict[str, str]:
    keys = dev_dir / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    private, public = keys / "internal.pem", keys / "internal.pub.pem"
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        private.write_text(private_pem(key))
        private.chmod(0o600)
        public.write_text(public_pem(key.public_key()))
    return {"NUJOOMY_INTERNAL_PRIVATE_KEY": str(private), "NUJOOMY_INTERNAL_PUBLIC_KEY": str(public)}
