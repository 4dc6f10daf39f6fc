"""The wallet-pass service's HTTP routes."""

from __future__ import annotations

from typing import Any

from nujoomy_wallet_pass.api.apple import apple_router
from nujoomy_wallet_pass.api.cards import cards_router
from nujoomy_wallet_pass.api.certificates import certificates_router
from nujoomy_wallet_pass.api.google import google_router
from nujoomy_wallet_pass.api.internal import internal_router


def route_handlers() -> list[Any]:
    return [apple_router(), cards_router(), internal_router(), certificates_router(), google_router()]
