"""Small helpers every route module shares: public ids, cursors, limits."""

from __future__ import annotations

import uuid

from nujoomy_kit.ids import InvalidId, decode_id, encode_id
from nujoomy_kit.problems import InvalidInput

from nujoomy_tenant.domain.errors import NotFound

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def parse_id(prefix: str, text: str) -> uuid.UUID:
    """An id of the wrong kind, malformed or absent answers 404 exactly like another tenant's id."""
    try:
        return decode_id(prefix, text)
    except InvalidId as exc:
        raise NotFound(f"No such {prefix} id") from exc


def page_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is 1..{MAX_LIMIT}", field="limit")
    return limit


def after_cursor(prefix: str, cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    try:
        return decode_id(prefix, cursor)
    except InvalidId as exc:
        raise InvalidInput("cursor is not valid", field="cursor") from exc


def next_cursor(prefix: str, ids: list[uuid.UUID], limit: int) -> str | None:
    # Ids are UUIDv7 (time-ordered), so "after the last id" is a stable keyset cursor.
    return encode_id(prefix, ids[-1]) if len(ids) == limit else None
