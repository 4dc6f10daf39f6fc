"""Cursor pagination over UUIDv7 ids (time ordered): the cursor is the last id of the page, opaque."""

from __future__ import annotations

import uuid

from nujoomy_kit.ids import InvalidId, decode_id, encode_id
from nujoomy_kit.problems import InvalidInput, NotFound


def after(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        return decode_id("cur", cursor)
    except InvalidId as exc:
        raise InvalidInput("The cursor is not one this API gave out") from exc


def next_cursor(ids: list[uuid.UUID], limit: int) -> str | None:
    return encode_id("cur", ids[-1]) if len(ids) == limit else None


def object_id(prefix: str, text: str, what: str) -> uuid.UUID:
    """An id of the wrong kind or shape is simply not found (no hint about other tenants)."""
    try:
        return decode_id(prefix, text)
    except InvalidId as exc:
        raise NotFound(f"No such {what}") from exc
