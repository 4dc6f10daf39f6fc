"""Identifiers: UUIDv7 inside (time-ordered, index friendly), a typed prefix outside (`mbr_…`).

The prefix lets a human and a partner tell ids apart at a glance and lets the API refuse an id of
the wrong kind without a database round trip.
"""

from __future__ import annotations

import os
import time
import uuid

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_B62_LEN = 22  # 62**22 > 2**128


class InvalidId(ValueError):
    """The text is not an id of the expected kind."""


def uuid7() -> uuid.UUID:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, version, 74 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def b62encode(value: int, width: int = _B62_LEN) -> str:
    chars = []
    while value:
        value, rem = divmod(value, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars)).rjust(width, "0")


def b62decode(text: str) -> int:
    value = 0
    for ch in text:
        digit = _INDEX.get(ch)
        if digit is None:
            raise InvalidId(text)
        value = value * 62 + digit
    return value


def encode_id(prefix: str, value: uuid.UUID) -> str:
    return f"{prefix}_{b62encode(value.int)}"


def decode_id(prefix: str, text: str) -> uuid.UUID:
    """Return the UUID inside `prefix_…`; raise InvalidId for anything else."""
    head, sep, body = text.partition("_")
    if sep != "_" or head != prefix or len(body) != _B62_LEN:
        raise InvalidId(text)
    number = b62decode(body)
    if number >= 1 << 128:
        raise InvalidId(text)
    return uuid.UUID(int=number)


def new_id(prefix: str) -> tuple[uuid.UUID, str]:
    """A fresh UUIDv7 and its public form."""
    value = uuid7()
    return value, encode_id(prefix, value)
