"""Every link a pass carries opens on the public address of the service that serves its page."""

from __future__ import annotations

import uuid

from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass.render import preferences_url
from nujoomy_wallet_pass.settings import load
from wallet_pass_helpers import program

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a0a1")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b0a1")


def test_the_manage_link_opens_the_gateways_preferences_page_not_wallet_pass() -> None:
    # As compose and Kubernetes set it: the gateway's public address shared, wallet-pass's own apart.
    env = {
        "NUJOOMY_PUBLIC_URL": "https://api.loyalty.example",
        "NUJOOMY_WALLET_PASS_PUBLIC_URL": "https://pass.loyalty.example",
    }
    settings = load(env, member_link_private_key=TestTokens().member_link_private_pem)
    link = preferences_url(settings, program(TENANT, PROGRAM), "live", uuid.uuid4())
    assert link.startswith("https://api.loyalty.example/join/cafe-noor/preferences?t=")
    # The pass's web service stays on wallet-pass's own address.
    assert settings.public_url == "https://pass.loyalty.example"


def test_make_up_defaults_point_the_manage_link_at_the_local_gateway() -> None:
    settings = load({})
    link = preferences_url(settings, program(TENANT, PROGRAM), "live", uuid.uuid4())
    assert link == "http://127.0.0.1:8000/join/cafe-noor/preferences"  # 8000: the gateway, make up's port


def test_an_explicit_pages_address_wins() -> None:
    env = {
        "NUJOOMY_PUBLIC_URL": "https://api.example",
        "NUJOOMY_WALLET_PASS_PAGES_URL": "https://join.example",
    }
    link = preferences_url(load(env), program(TENANT, PROGRAM), "test", uuid.uuid4())
    assert link.startswith("https://join.example/join/cafe-noor/preferences")
