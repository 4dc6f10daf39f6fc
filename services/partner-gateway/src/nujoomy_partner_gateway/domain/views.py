"""Partner-facing views of internal payloads: ids become the public prefixed form.

The tenant service answers `/internal/v1/program` in the event payload's shape (raw UUIDs); a
partner only ever sees `prg_…`, `ten_…`, `rwd_…`, `loc_…`.
"""

from __future__ import annotations

import uuid
from typing import Any

from nujoomy_kit.ids import encode_id

PREFIXES = {"program_id": "prg", "tenant_id": "ten", "reward_id": "rwd", "location_id": "loc"}


def _public_id(prefix: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return encode_id(prefix, uuid.UUID(value))
    except ValueError:
        return value  # already public (or not an id at all): leave it


def with_public_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _public_id(PREFIXES[k], v) if k in PREFIXES else with_public_ids(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [with_public_ids(v) for v in value]
    return value
