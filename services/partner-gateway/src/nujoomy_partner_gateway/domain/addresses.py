"""Which addresses a webhook may reach (SSRF): only globally routable unicast addresses."""

from __future__ import annotations

import ipaddress


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    # is_global excludes private, loopback, link-local, shared (100.64/10), reserved and unspecified.
    return ip.is_global and not ip.is_multicast
