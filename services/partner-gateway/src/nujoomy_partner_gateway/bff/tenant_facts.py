"""What the pages need to know about the business itself (its time zone), from the tenant service."""

from __future__ import annotations

from typing import Any

from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable


async def time_zone(backends: Backends) -> str:
    """The tenant's IANA zone; UTC when the tenant service does not answer (dates still show, in UTC)."""
    try:
        tenant: Any = await backends.get("tenant", "/internal/v1/tenant")
    except (BackendError, BackendUnavailable):
        return "UTC"
    return str((tenant or {}).get("timezone") or "UTC")
