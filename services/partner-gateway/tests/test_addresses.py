"""Webhook SSRF filter: an IPv6 address that carries an IPv4 one is judged by the IPv4 it carries."""

from __future__ import annotations

import pytest
from nujoomy_partner_gateway.domain.addresses import is_public


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a00:1",  # NAT64 well-known prefix, 10.0.0.1
        "64:ff9b::127.0.0.1",
        "64:ff9b::169.254.169.254",  # a cloud metadata service, through NAT64
        "64:ff9b:1::a00:1",  # RFC 8215 local-use NAT64
        "64:ff9b:1:abcd::808:808",
        "2002:a00:1::1",  # 6to4 for 10.0.0.1
        "2002:7f00:1::",  # 6to4 for 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 for 169.254.169.254
        "::10.0.0.1",  # IPv4-compatible
        "::127.0.0.1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:192.168.1.1",
        "::ffff:0:10.0.0.1",  # SIIT IPv4-translated
        "::ffff:0:127.0.0.1",
        "::1",
        "::",
        "fe80::1%eth0",
        "fd00::1",
        "10.0.0.1",
        "100.64.0.1",
    ],
)
def test_private_addresses_in_any_form_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822", "2002:5db8:d822::1"],
)
def test_public_addresses_stay_public(address: str) -> None:
    # NAT64 and 6to4 of a public IPv4 address reach that public address: allowed.
    assert is_public(address)
