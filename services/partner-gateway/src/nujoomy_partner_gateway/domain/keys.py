"""API key format: `nj_live_`/`nj_test_` + 32 base62 random + 6 base62 CRC32 checksum.

The checksum lets the gateway refuse a mistyped or made-up key without touching Redis or the
database (GitHub's token format does the same); only the SHA-256 of a key is ever stored.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from typing import Literal

import msgspec

Mode = Literal["live", "test"]
Scope = Literal["read", "write", "webhooks"]
ALL_SCOPES: tuple[Scope, ...] = ("read", "write", "webhooks")

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ALPHABET_SET = frozenset(_ALPHABET)
RANDOM_LEN = 32
CHECKSUM_LEN = 6
_PREFIXES: dict[str, Mode] = {"nj_live_": "live", "nj_test_": "test"}
KEY_LEN = len("nj_live_") + RANDOM_LEN + CHECKSUM_LEN


class MalformedKey(ValueError):
    """The text is not a well-formed Nujoomy API key (format or checksum)."""


class ParsedKey(msgspec.Struct, frozen=True):
    mode: Mode
    secret: str
    sha256: str


def _b62(value: int, width: int) -> str:
    chars = []
    while value:
        value, rem = divmod(value, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars)).rjust(width, "0")


def checksum(body: str) -> str:
    """CRC32 of the prefix and random part, base62, 6 characters (62**6 > 2**32)."""
    return _b62(zlib.crc32(body.encode("ascii")), CHECKSUM_LEN)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def generate_key(mode: Mode) -> str:
    body = f"nj_{mode}_" + "".join(secrets.choice(_ALPHABET) for _ in range(RANDOM_LEN))
    return body + checksum(body)


def parse_key(text: str) -> ParsedKey:
    """Validate format and checksum; no I/O. Raises MalformedKey."""
    if len(text) != KEY_LEN:
        raise MalformedKey("wrong length")
    mode = _PREFIXES.get(text[:8])
    if mode is None:
        raise MalformedKey("unknown prefix")
    rest = text[8:]
    if not set(rest) <= _ALPHABET_SET:
        raise MalformedKey("invalid characters")
    body, check = text[:-CHECKSUM_LEN], text[-CHECKSUM_LEN:]
    if checksum(body) != check:
        raise MalformedKey("bad checksum")
    return ParsedKey(mode=mode, secret=text, sha256=hash_key(text))


def redacted(secret: str) -> str:
    """What a listing shows: the prefix and the last four characters."""
    return f"{secret[:8]}…{secret[-4:]}"
