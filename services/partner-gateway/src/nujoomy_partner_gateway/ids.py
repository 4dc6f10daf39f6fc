"""Small id helpers the gateway needs beyond nujoomy_kit.ids."""

from __future__ import annotations

from nujoomy_kit.ids import uuid7


def new_request_key() -> str:
    """An idempotency key for a write the partner sent without one: unique, so never deduplicated."""
    return f"gw_{uuid7().hex}"
