"""Which addresses a webhook may reach (SSRF): only globally routable unicast addresses.

An IPv6 address can carry an IPv4 one (NAT64, 6to4, IPv4-compatible, IPv4-mapped, SIIT-translated):
a network that routes that prefix delivers to the embedded IPv4 address, so that is the address
judged. Otherwise `64:ff9b::10.0.0.1` would pass as "global IPv6" and reach a private host.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Prefixes whose low 32 bits are an IPv4 address (RFC 6052 NAT64 well-known and local-use,
# RFC 4291 IPv4-compatible, RFC 2765/6145 SIIT translated).
_LOW_32 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
)
# RFC 8215 local-use NAT64: an IPv4 address in the /96 the operator picked inside the /48; the
# whole range is an internal translator, never a partner's endpoint.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_6TO4 = ipaddress.IPv6Network("2002::/16")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:  # 2002:AABB:CCDD::/48 is 6to4 for AA.BB.CC.DD
        return ip.sixtofour
    for network in _LOW_32:
        if ip in network:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
        elif ip in _6TO4:
            return False
    # is_global excludes private, loopback, link-local, shared (100.64/10), reserved and unspecified.
    return ip.is_global and not ip.is_multicast
