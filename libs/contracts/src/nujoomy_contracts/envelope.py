"""The event envelope.

`id` is a UUIDv7 and the consumers' dedupe key; `type` is the routing key
`<context>.<entity>.<verb>`; `version` is the payload's schema version; `data` is typed per event.
A consumer first decodes a `RawEnvelope` (data left as raw JSON) and then the payload it knows.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

import msgspec

Mode = Literal["live", "test"]
T = TypeVar("T")


def _uuid7() -> uuid.UUID:
    # Same layout as nujoomy_kit.ids.uuid7; contracts stays dependency-free for outside consumers.
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64 | 0b10 << 62
    return uuid.UUID(int=value | (rand & ((1 << 62) - 1)))


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    tenant_id: uuid.UUID
    mode: Mode
    data: T
    traceparent: str | None = None


class RawEnvelope(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    tenant_id: uuid.UUID
    mode: Mode
    data: msgspec.Raw
    traceparent: str | None = None


def new_envelope(
    type_: str,
    data: T,
    *,
    tenant_id: uuid.UUID,
    mode: Mode,
    version: int = 1,
    traceparent: str | None = None,
    occurred_at: datetime | None = None,
) -> Envelope[T]:
    return Envelope(
        id=_uuid7(),
        type=type_,
        version=version,
        occurred_at=occurred_at or datetime.now(UTC),
        tenant_id=tenant_id,
        mode=mode,
        data=data,
        traceparent=traceparent,
    )


_encoder = msgspec.json.Encoder()
_raw_decoder = msgspec.json.Decoder(RawEnvelope)


def encode_envelope(envelope: Envelope[Any]) -> bytes:
    return _encoder.encode(envelope)


def decode_envelope(body: bytes) -> RawEnvelope:
    return _raw_decoder.decode(body)
