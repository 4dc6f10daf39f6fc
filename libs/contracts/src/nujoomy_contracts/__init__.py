"""The published language between Nujoomy services: the envelope and every event payload."""

from nujoomy_contracts.envelope import (
    Envelope,
    Mode,
    RawEnvelope,
    decode_envelope,
    encode_envelope,
    new_envelope,
)
from nujoomy_contracts.registry import EVENT_TYPES, data_type, decode_data

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "Mode",
    "RawEnvelope",
    "data_type",
    "decode_data",
    "decode_envelope",
    "encode_envelope",
    "new_envelope",
]
