"""One-click unsubscribe tokens: who and which channel, HMAC-signed so a link cannot be forged.

Token = base64url(tenant uuid | member uuid | mode byte | channel byte) "." base64url(HMAC-SHA256[:16]).
No expiry: an unsubscribe link in a years-old email must still work (RFC 8058 expects it to).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Literal

import msgspec

from nujoomy_notification.domain.errors import InvalidUnsubscribeToken
from nujoomy_notification.domain.kinds import Channel

_MODES: tuple[Literal["live", "test"], ...] = ("live", "test")
_CHANNELS: tuple[Channel, ...] = ("email", "sms")


class UnsubscribeTarget(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    member_id: uuid.UUID
    mode: Literal["live", "test"]
    channel: Channel


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"nujoomy-unsubscribe:" + payload, hashlib.sha256).digest()[:16]


def sign(secret: bytes, target: UnsubscribeTarget) -> str:
    payload = (
        target.tenant_id.bytes
        + target.member_id.bytes
        + bytes([_MODES.index(target.mode), _CHANNELS.index(target.channel)])
    )
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify(secret: bytes, token: str) -> UnsubscribeTarget:
    head, sep, tail = token.partition(".")
    try:
        payload, mac = _unb64(head), _unb64(tail)
    except ValueError as exc:
        raise InvalidUnsubscribeToken from exc
    if not sep or len(payload) != 34 or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise InvalidUnsubscribeToken
    mode_i, channel_i = payload[32], payload[33]
    if mode_i >= len(_MODES) or channel_i >= len(_CHANNELS):
        raise InvalidUnsubscribeToken
    return UnsubscribeTarget(
        tenant_id=uuid.UUID(bytes=payload[:16]),
        member_id=uuid.UUID(bytes=payload[16:32]),
        mode=_MODES[mode_i],
        channel=_CHANNELS[channel_i],
    )
