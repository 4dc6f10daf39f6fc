"""Signed links that name one member without an account: the preferences link on the back of a pass.

wallet-pass signs with the internal Ed25519 key when it renders the pass; the gateway's public page
checks against the internal public keys (several during a rotation). The signature covers a purpose
prefix, so such a link is never a bearer token for anything else, and the issue time, so it expires.

Token = base64url(version | tenant uuid | member uuid | mode | issued u32 | Ed25519 signature[64]).
"""

from __future__ import annotations

import base64
import struct
import time
import uuid
from functools import cache
from typing import Literal

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from nujoomy_kit.tokens import TokenError, load_private_key, load_public_key

Mode = Literal["live", "test"]
_VERSION = 1
_MODES: tuple[Mode, ...] = ("live", "test")
_HEAD = struct.Struct(">B16s16sBI")
_SIGNATURE = 64


class MemberLink(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    member_id: uuid.UUID
    mode: Mode
    issued_at: int


@cache
def _private(pem: str) -> Ed25519PrivateKey:
    return load_private_key(pem)


@cache
def _public(pem: str) -> Ed25519PublicKey:
    return load_public_key(pem)


def _message(purpose: str, head: bytes) -> bytes:
    return f"nujoomy-member-link:{purpose}:".encode() + head


def sign_member_link(
    private_pem: str,
    purpose: str,
    *,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    mode: Mode,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    head = _HEAD.pack(_VERSION, tenant_id.bytes, member_id.bytes, _MODES.index(mode), issued)
    signature = _private(private_pem).sign(_message(purpose, head))
    return base64.urlsafe_b64encode(head + signature).rstrip(b"=").decode("ascii")


def verify_member_link(
    public_pems: list[str], purpose: str, token: str, *, max_age: int, now: float | None = None
) -> MemberLink:
    """The member the link names, or TokenError (forged, for another purpose, expired, malformed)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError as exc:
        raise TokenError("malformed link") from exc
    if len(raw) != _HEAD.size + _SIGNATURE:
        raise TokenError("malformed link")
    head, signature = raw[: _HEAD.size], raw[_HEAD.size :]
    version, tenant, member, mode_index, issued = _HEAD.unpack(head)
    if version != _VERSION or mode_index >= len(_MODES):
        raise TokenError("malformed link")
    message = _message(purpose, head)
    for pem in public_pems:
        try:
            _public(pem).verify(signature, message)
            break
        except InvalidSignature:
            continue
    else:
        raise TokenError("bad signature")
    age = (now if now is not None else time.time()) - issued
    if not -300 <= age <= max_age:  # a few minutes of clock skew between replicas
        raise TokenError("link expired")
    return MemberLink(
        tenant_id=uuid.UUID(bytes=tenant),
        member_id=uuid.UUID(bytes=member),
        mode=_MODES[mode_index],
        issued_at=issued,
    )
