"""Turning public ids and cursors into UUIDs, and the clock handlers read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from nujoomy_kit.ids import InvalidId, decode_id
from nujoomy_kit.problems import InvalidInput, NotFound


def path_id(prefix: str, text: str) -> uuid.UUID:
    """An id in the path: anything malformed or of another kind is simply not found."""
    try:
        return decode_id(prefix, text)
    except InvalidId:
        raise NotFound(f"No such {prefix} id") from None


def body_id(prefix: str, text: str | None, field: str) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return decode_id(prefix, text)
    except InvalidId:
        raise InvalidInput(f"{field} must be a {prefix}_ id", field=field) from None


def cursor(prefix: str, text: str | None) -> uuid.UUID | None:
    if not text:
        return None
    try:
        return decode_id(prefix, text)
    except InvalidId:
        raise InvalidInput("The cursor is not valid", field="cursor") from None


def now() -> datetime:
    return datetime.now(UTC)
