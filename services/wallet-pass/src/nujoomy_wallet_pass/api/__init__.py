"""The wallet-pass service's HTTP routes."""

from __future__ import annotations

from typing import Any


def route_handlers() -> list[Any]:
    return []
