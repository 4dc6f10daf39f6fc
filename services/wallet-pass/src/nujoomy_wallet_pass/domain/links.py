"""Pass ids and signed, expiring download links, all derivable from a member id and the card's
generation (no I/O). Generation 0 is the first card; each reissue is the next generation, with its
own serial, Google object and links. Ids of generation 0 are those derived before generations
existed, so cards already in wallets keep theirs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import uuid
from typing import Literal, NamedTuple

Mode = Literal["live", "test"]
Wallet = Literal["apple", "google"]
_NAMESPACE = uuid.UUID("6d1f2a3c-6b55-4c0e-9b1a-6e756a6f6f6d")
_MODES: dict[str, int] = {"live": 0, "test": 1}


def _generation(generation: int) -> str:
    return f":{generation}" if generation else ""


def pass_id(member_id: uuid.UUID, wallet: Wallet, generation: int = 0) -> uuid.UUID:
    """One pass per member per wallet per card, with an id known before the pass row exists (the
    links are handed out at enrolment, before this service has seen the event)."""
    return uuid.uuid5(_NAMESPACE, f"{member_id}:{wallet}{_generation(generation)}")


def google_object_id(
    issuer_id: str, tenant_id: uuid.UUID, mode: Mode, member_id: uuid.UUID, generation: int = 0
) -> str:
    """Google ids are "<issuer>.<suffix>" with only [A-Za-z0-9._-] in the suffix.

    The suffix binds tenant and mode as well as the member: a save link asked for with another
    tenant's (or the other mode's) member id names an object that is never created, so the links
    endpoint hands nobody a card that is not theirs. A reissued card is a new object."""
    name = f"{tenant_id}:{mode}:{member_id}:google{_generation(generation)}"
    return f"{issuer_id}.{uuid.uuid5(_NAMESPACE, name).hex}"


def google_class_id(issuer_id: str, program_id: uuid.UUID | None, tenant_id: uuid.UUID, mode: Mode) -> str:
    return f"{issuer_id}.{mode}_{(program_id or tenant_id).hex}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DownloadLink(NamedTuple):
    tenant_id: uuid.UUID
    mode: Mode
    member_id: uuid.UUID
    generation: int


def download_token(
    secret: bytes,
    tenant_id: uuid.UUID,
    mode: Mode,
    member_id: uuid.UUID,
    expires_at: int,
    *,
    generation: int = 0,
) -> str:
    """The first card's token keeps the shape links had before generations (41 bytes, still valid);
    a reissued card's carries its generation (4 more bytes), so the old card's links stop at it."""
    body = tenant_id.bytes + member_id.bytes + struct.pack(">BQ", _MODES[mode], expires_at)
    if generation:
        body += struct.pack(">I", generation)
    mac = hmac.new(secret, body, hashlib.sha256).digest()[:16]
    return f"{_b64(body)}.{_b64(mac)}"


def read_download_token(secret: bytes, token: str, now: int) -> tuple[uuid.UUID, Mode, uuid.UUID] | None:
    """(tenant, mode, member) for a genuine, unexpired token; None otherwise."""
    link = read_download_link(secret, token, now)
    return None if link is None else (link.tenant_id, link.mode, link.member_id)


def read_download_link(secret: bytes, token: str, now: int) -> DownloadLink | None:
    """Tenant, mode, member and card generation of a genuine, unexpired token; None otherwise."""
    head, sep, tail = token.partition(".")
    if not sep:
        return None
    try:
        body, mac = _unb64(head), _unb64(tail)
    except ValueError:
        return None
    if len(body) not in (41, 45):
        return None
    expected = hmac.new(secret, body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        return None
    mode_byte, expires_at = struct.unpack(">BQ", body[32:41])
    generation = struct.unpack(">I", body[41:])[0] if len(body) == 45 else 0
    if expires_at < now or mode_byte not in (0, 1):
        return None
    mode: Mode = "live" if mode_byte == 0 else "test"
    return DownloadLink(uuid.UUID(bytes=body[:16]), mode, uuid.UUID(bytes=body[16:32]), generation)
