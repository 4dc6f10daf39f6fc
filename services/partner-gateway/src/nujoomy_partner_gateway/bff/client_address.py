"""The address a public page's per-IP limit counts: the socket peer, unless that peer is one of our own
proxies, in which case the nearest hop in X-Forwarded-For that is not one of our proxies.

Reading X-Forwarded-For from anyone would let a script pick a fresh address per request and walk past
the limit; reading its leftmost entry would let the client choose it even behind our proxy. Only the
hops our proxies appended can be believed, so the walk goes right to left and stops at the first
address that is not ours.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.0/8`, `127.0.0.1` (a single host) or IPv6; a typo fails loudly at start-up."""
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: Sequence[Network]
) -> bool:
    return address is not None and any(address in n for n in networks)


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """`forwarded_for`: every X-Forwarded-For header value, in the order received."""
    if not _trusted(_ip(peer), trusted):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    nearest = peer
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            # A garbled hop: whatever lies left of it is the client's own say. Count the request
            # against the last proxy we trust rather than against a name the client made up.
            return nearest
        if not _trusted(address, trusted):
            return str(address)
        nearest = str(address)
    return nearest  # every hop is ours (a request from inside): the leftmost of them


def request_address(scope: Any, trusted: Sequence[Network]) -> str:
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"]
    return client_address(peer, values, trusted)
