"""Google Wallet save/delete callbacks: verifying the `ECv2SigningOnly` signed message (Google Pay's
"payment data cryptography", signing part only), and signing one (for the local fake).

The body is {"protocolVersion", "signature", "intermediateSigningKey": {"signedKey", "signatures"},
"signedMessage"}. Checks, in Google's order: the intermediate key is signed by one of Google's
unexpired root keys over length-prefixed (sender id, protocol, signedKey); it is unexpired; the
message is signed by it over length-prefixed (sender id, recipient id, protocol, signedMessage); the
message (classId, objectId, expTimeMillis, eventType save|del, nonce) is unexpired. Every length is a
4-byte little-endian count of UTF-8 bytes; signatures are base64 DER ECDSA P-256 with SHA-256; keys are
base64 DER SubjectPublicKeyInfo. No I/O here.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from nujoomy_kit.problems import DomainError

PROTOCOL = "ECv2SigningOnly"
SENDER_ID = "GooglePayPasses"


class CallbackRejected(DomainError):
    code = "callback_malformed"
    status = 400
    title = "The callback is not a well-formed ECv2SigningOnly message"


class CallbackSignatureInvalid(CallbackRejected):
    code = "callback_signature_invalid"
    status = 401
    title = "The callback's signatures do not verify (root key, intermediate key or recipient)"


class CallbackExpired(CallbackRejected):
    code = "callback_expired"
    title = "The callback's intermediate key or message has expired"


@dataclass(frozen=True)
class RootKey:
    key: ec.EllipticCurvePublicKey
    expires_ms: int | None  # None: Google gave no expiration


class _SignedKey(msgspec.Struct):
    keyValue: str  # noqa: N815 - Google's field names
    keyExpiration: str  # noqa: N815


class _Intermediate(msgspec.Struct):
    signedKey: str  # noqa: N815
    signatures: list[str]


class _Envelope(msgspec.Struct):
    protocolVersion: str  # noqa: N815
    signature: str
    intermediateSigningKey: _Intermediate  # noqa: N815
    signedMessage: str  # noqa: N815


class CallbackMessage(msgspec.Struct, frozen=True):
    classId: str  # noqa: N815
    objectId: str  # noqa: N815
    expTimeMillis: int  # noqa: N815
    eventType: str  # noqa: N815 - "save" or "del"
    nonce: str


def length_value(*parts: str) -> bytes:
    out = bytearray()
    for part in parts:
        data = part.encode()
        out += struct.pack("<I", len(data)) + data
    return bytes(out)


def _public_key(b64: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(base64.b64decode(b64))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an EC key")
    return key


def parse_root_keys(document: bytes) -> list[RootKey]:
    """Google's key document {"keys": [{"keyValue", "protocolVersion", "keyExpiration"?}]}: the
    ECv2SigningOnly keys in it."""
    keys = []
    for entry in msgspec.json.decode(document).get("keys", []):
        if entry.get("protocolVersion") != PROTOCOL:
            continue
        expiration = entry.get("keyExpiration")
        keys.append(RootKey(_public_key(entry["keyValue"]), int(expiration) if expiration else None))
    return keys


def _verifies(key: ec.EllipticCurvePublicKey, signature_b64: str, data: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64), data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def verify_callback(
    body: bytes, roots: list[RootKey], *, recipient_id: str, now_ms: int, sender_id: str = SENDER_ID
) -> CallbackMessage:
    try:
        envelope = msgspec.json.decode(body, type=_Envelope)
        signed_key = msgspec.json.decode(envelope.intermediateSigningKey.signedKey, type=_SignedKey)
    except msgspec.DecodeError as exc:
        raise CallbackRejected(str(exc)) from exc
    if envelope.protocolVersion != PROTOCOL:
        raise CallbackRejected(f"protocolVersion {envelope.protocolVersion!r}")
    key_data = length_value(sender_id, PROTOCOL, envelope.intermediateSigningKey.signedKey)
    live_roots = [r for r in roots if r.expires_ms is None or r.expires_ms > now_ms]
    if not any(
        _verifies(root.key, sig, key_data)
        for root in live_roots
        for sig in envelope.intermediateSigningKey.signatures
    ):
        raise CallbackSignatureInvalid("the intermediate key is not signed by a current Google root key")
    if not signed_key.keyExpiration.isdigit() or int(signed_key.keyExpiration) <= now_ms:
        raise CallbackExpired("the intermediate signing key has expired")
    try:
        intermediate = _public_key(signed_key.keyValue)
    except (ValueError, binascii.Error) as exc:
        raise CallbackRejected("intermediate keyValue is not an EC public key") from exc
    message_data = length_value(sender_id, recipient_id, PROTOCOL, envelope.signedMessage)
    if not _verifies(intermediate, envelope.signature, message_data):
        # A message for another issuer (recipient) fails here too: the recipient id is signed.
        raise CallbackSignatureInvalid("the message signature does not verify for this issuer")
    try:
        message = msgspec.json.decode(envelope.signedMessage, type=CallbackMessage)
    except msgspec.DecodeError as exc:
        raise CallbackRejected(str(exc)) from exc
    if message.expTimeMillis <= now_ms:
        raise CallbackExpired("the message has expired")
    if message.eventType not in ("save", "del"):
        raise CallbackRejected(f"eventType {message.eventType!r}")
    return message


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def public_key_value(key: ec.EllipticCurvePrivateKey) -> str:
    return _b64(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def sign_callback(
    message: dict[str, Any],
    *,
    root: ec.EllipticCurvePrivateKey,
    intermediate: ec.EllipticCurvePrivateKey,
    intermediate_expires_ms: int,
    recipient_id: str,
    sender_id: str = SENDER_ID,
) -> dict[str, Any]:
    """What Google POSTs: the message signed by an intermediate key that a root key signed."""
    signed_key = msgspec.json.encode(
        {"keyValue": public_key_value(intermediate), "keyExpiration": str(intermediate_expires_ms)}
    ).decode()
    signed_message = msgspec.json.encode(message).decode()
    ecdsa = ec.ECDSA(hashes.SHA256())
    return {
        "protocolVersion": PROTOCOL,
        "signature": _b64(
            intermediate.sign(length_value(sender_id, recipient_id, PROTOCOL, signed_message), ecdsa)
        ),
        "intermediateSigningKey": {
            "signedKey": signed_key,
            "signatures": [_b64(root.sign(length_value(sender_id, PROTOCOL, signed_key), ecdsa))],
        },
        "signedMessage": signed_message,
    }
