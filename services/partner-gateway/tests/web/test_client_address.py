"""Which address the join page's per-IP limit counts: the socket peer, or, behind our own proxies
only, the nearest X-Forwarded-For hop that is not one of them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from nujoomy_partner_gateway.bff.client_address import client_address, parse_networks
from nujoomy_partner_gateway.settings import Settings as GatewaySettings
from nujoomy_testing.servers import served

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import Business, gateway_app

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8", "127.0.0.1"])


def test_an_untrusted_peer_is_counted_whatever_it_claims() -> None:
    assert client_address("203.0.113.9", ["1.2.3.4"], PROXIES) == "203.0.113.9"
    assert client_address("203.0.113.9", [], PROXIES) == "203.0.113.9"
    assert client_address("10.1.2.3", ["1.2.3.4"], ()) == "10.1.2.3", "no proxies configured: the peer"


def test_behind_our_proxy_the_rightmost_untrusted_hop_counts() -> None:
    # The client wrote "6.6.6.6" itself; our edge appended the address it saw, then an inner proxy
    # appended the edge's address. Only the hops our proxies added are believed.
    assert client_address("10.0.0.2", ["6.6.6.6, 198.51.100.7, 10.0.0.1"], PROXIES) == "198.51.100.7"
    assert client_address("10.0.0.2", ["6.6.6.6", "198.51.100.7"], PROXIES) == "198.51.100.7"
    assert client_address("fd00::2", ["2001:db8::5"], PROXIES) == "2001:db8::5"
    assert client_address("127.0.0.1", ["198.51.100.7:5555"], PROXIES) == "198.51.100.7"


def test_garbage_or_an_all_internal_chain_never_makes_up_an_address() -> None:
    assert client_address("10.0.0.2", ["not-an-ip"], PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", ["6.6.6.6, bogus, 10.0.0.1"], PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.2", ["10.9.9.9, 10.0.0.1"], PROXIES) == "10.9.9.9"
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_a_malformed_cidr_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/33"])


async def _statuses(url: str, forwarded: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=url) as client:
        out = []
        for value in forwarded:
            answer = await client.post(
                "/join/acme",
                data={"form_token": "x", "email": "a@example.com"},
                headers={"X-Forwarded-For": value},
            )
            out.append(answer.status_code)
        return out


async def test_join_limit_ignores_forwarded_for_from_an_untrusted_peer(
    web_settings: GatewaySettings, acme: Business, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUJOOMY_WEB_TRUSTED_PROXIES", "10.0.0.0/8")  # the test client (127.0.0.1) is not one
    async with served(gateway_app(web_settings)) as url:
        statuses = await _statuses(url, [f"198.51.100.{i}" for i in range(12)])
    # A fresh made-up address per request does not buy a fresh window: 10 forms, then 429.
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]


async def test_join_limit_counts_each_client_behind_a_trusted_proxy(
    web_settings: GatewaySettings, acme: Business, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUJOOMY_WEB_TRUSTED_PROXIES", "127.0.0.1/32")  # the test client plays our proxy
    async with served(gateway_app(web_settings)) as url:
        crowd = await _statuses(url, [f"198.51.100.{i}" for i in range(12)])
        # The client spoofs a leftmost hop; the proxy appended the real one, which the limit counts.
        one: list[Any] = await _statuses(url, [f"6.6.6.{i}, 203.0.113.50" for i in range(12)])
    assert crowd == [400] * 12, "twelve customers behind one proxy each get their own window"
    assert one[:10] == [400] * 10
    assert one[10:] == [429, 429]
