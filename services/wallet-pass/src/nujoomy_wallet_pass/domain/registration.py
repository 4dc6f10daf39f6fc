"""What a PassKit device may send when it registers for a pass's updates.

Apple's device library identifier is an opaque id Wallet makes up (in practice 32 hex digits) and the
push token is the APNs device token (32 bytes today, documented as variable length, sent as hex).
Both are stored and the push token goes into the APNs request path, so anything else is refused:
an unbounded or path-like value would sit in the database and in the URL we call APNs with."""

from __future__ import annotations

import re

from nujoomy_wallet_pass.domain.errors import InvalidDeviceId, InvalidPushToken

# Bounded generously above today's 32 bytes (64 hex digits): Apple says tokens may grow.
_PUSH_TOKEN = re.compile(r"[0-9A-Fa-f]{16,200}")
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def device_library_id(value: str) -> str:
    if not _DEVICE_ID.fullmatch(value):
        raise InvalidDeviceId
    return value


def push_token(value: str) -> str:
    if not _PUSH_TOKEN.fullmatch(value):
        raise InvalidPushToken("pushToken must be the device token in hex (16 to 200 digits)")
    return value
