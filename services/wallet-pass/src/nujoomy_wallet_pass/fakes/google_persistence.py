"""The Google fake remembers what Google remembers: classes, objects and its callback signing keys
survive a restart of the fake (`--state-file`), as they survive anything at Google. Without this a
restarted `make up` would answer every new member's object insert "Class not found" for classes
the wallet-pass service rightly believes Google already holds.

The state is written at most every `interval` seconds after a change (and when the fake stops),
to a temporary file renamed over the old one, so a crash leaves the previous complete state."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nujoomy_wallet_pass.fakes.google import RESOURCES, GoogleFakeState


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def save_state(fake: GoogleFakeState, path: Path) -> None:
    snapshot: dict[str, Any] = {
        "stores": fake.stores,
        "root_key": _pem(fake.root_key),
        "intermediate_key": _pem(fake.intermediate_key),
    }
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(msgspec.json.encode(snapshot))
    os.replace(temporary, path)


def load_state(fake: GoogleFakeState, path: Path) -> None:
    """Fill `fake` from `path` when it exists (a first start begins empty)."""
    if not path.exists():
        return
    snapshot = msgspec.json.decode(path.read_bytes())
    for resource in RESOURCES:
        fake.stores[resource] = dict(snapshot.get("stores", {}).get(resource, {}))
    fake.root_key = _key(snapshot["root_key"])
    fake.intermediate_key = _key(snapshot["intermediate_key"])


async def keep_saved(fake: GoogleFakeState, path: Path, interval: float = 0.5) -> None:
    """Runs for the fake's life: writes the state after changes; once more when cancelled."""
    saved = fake.changes
    try:
        while True:
            await asyncio.sleep(interval)
            if fake.changes != saved:
                saved = fake.changes
                save_state(fake, path)
    finally:
        if fake.changes != saved:
            save_state(fake, path)
