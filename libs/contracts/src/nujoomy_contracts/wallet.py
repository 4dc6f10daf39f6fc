"""Events published by the wallet-pass service."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

PASS_INSTALLED = "wallet.pass.installed"
PASS_REMOVED = "wallet.pass.removed"

Wallet = Literal["apple", "google"]


class PassInstalled(msgspec.Struct, kw_only=True):
    pass_id: uuid.UUID
    member_id: uuid.UUID
    wallet: Wallet
    device_id: str | None = None


class PassRemoved(msgspec.Struct, kw_only=True):
    pass_id: uuid.UUID
    member_id: uuid.UUID
    wallet: Wallet
    device_id: str | None = None
