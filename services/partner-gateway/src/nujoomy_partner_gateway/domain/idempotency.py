"""Idempotency-Key rules (the IETF httpapi-idempotency-key-header draft): pure parts."""

from __future__ import annotations

import hashlib
from typing import Literal

import msgspec

MAX_KEY_LENGTH = 255
RECORD_TTL_MS = 24 * 3600 * 1000
# An in-flight marker outlives no plausible request; if a replica dies mid-request the key frees up.
IN_FLIGHT_TTL_MS = 60 * 1000


class BadKey(ValueError):
    pass


class Record(msgspec.Struct, kw_only=True):
    state: Literal["in_flight", "done"]
    fingerprint: str
    status: int = 0
    headers: list[tuple[str, str]] = []
    body: bytes = b""


def parse_header(value: str) -> str:
    """The draft defines the value as an sf-string (quoted); partners also send it bare. Accept both."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not text:
        raise BadKey("Idempotency-Key is empty")
    if len(text) > MAX_KEY_LENGTH:
        raise BadKey(f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
    if not text.isprintable() or not text.isascii():
        raise BadKey("Idempotency-Key must be printable ASCII")
    return text


# The ledger keeps keys of at most this many characters.
FORWARDED_KEY_LENGTH = 255


def forwarded_key(api_key_id: str, idempotency_key: str) -> str:
    """The key the ledger sees: the partner's key scoped to the API key that sent it (as Stripe
    scopes them), so one integration's key never meets another's request. Hashed when too long."""
    scoped = f"{api_key_id}:{idempotency_key}"
    if len(scoped) <= FORWARDED_KEY_LENGTH:
        return scoped
    return f"{api_key_id}:sha256:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def storable(status: int, code: str | None) -> bool:
    """Rejections before any effect (auth, validation, rate limit) and server errors are not kept,
    so the partner may fix the request or retry it under the same key."""
    if status >= 500 or status in (400, 401, 403, 413, 415, 429):
        return False
    return not (status == 422 and code == "invalid_input")
