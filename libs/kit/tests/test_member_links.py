"""Member links: signed by the internal key, checked against the public keys, bound to a purpose,
expiring."""

from __future__ import annotations

import uuid

import pytest
from nujoomy_kit.member_links import sign_member_link, verify_member_link
from nujoomy_kit.tokens import TokenError
from nujoomy_testing.tokens import TestTokens

TENANT, MEMBER = uuid.uuid4(), uuid.uuid4()


def _link(tokens: TestTokens, now: float = 1_800_000_000.0, purpose: str = "preferences") -> str:
    return sign_member_link(
        tokens.member_link_private_pem, purpose, tenant_id=TENANT, member_id=MEMBER, mode="test", now=now
    )


def test_a_link_names_its_member_until_it_expires() -> None:
    tokens = TestTokens()
    link = _link(tokens)
    found = verify_member_link(
        [tokens.member_link_public_pem], "preferences", link, max_age=60, now=1_800_000_030
    )
    assert (found.tenant_id, found.member_id, found.mode) == (TENANT, MEMBER, "test")
    with pytest.raises(TokenError, match="expired"):
        verify_member_link(
            [tokens.member_link_public_pem], "preferences", link, max_age=60, now=1_800_000_061
        )


def test_another_key_purpose_or_a_changed_byte_is_refused() -> None:
    tokens, other = TestTokens(), TestTokens()
    link = _link(tokens)
    now = 1_800_000_000
    with pytest.raises(TokenError):
        verify_member_link([other.member_link_public_pem], "preferences", link, max_age=60, now=now)
    with pytest.raises(TokenError):
        verify_member_link([tokens.member_link_public_pem], "erase", link, max_age=60, now=now)
    tampered = link[:5] + ("A" if link[5] != "A" else "B") + link[6:]
    with pytest.raises(TokenError):
        verify_member_link([tokens.member_link_public_pem], "preferences", tampered, max_age=60, now=now)
    for junk in ("", "!!!", "AAAA"):
        with pytest.raises(TokenError):
            verify_member_link([tokens.member_link_public_pem], "preferences", junk, max_age=60, now=now)


def test_any_key_of_a_rotation_verifies() -> None:
    old, new = TestTokens(), TestTokens()
    found = verify_member_link(
        [new.member_link_public_pem, old.member_link_public_pem],
        "preferences",
        _link(old),
        max_age=60,
        now=1_800_000_000,
    )
    assert found.member_id == MEMBER
