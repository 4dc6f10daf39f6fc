"""The preferences page's defences (the full opt-out, through notification, is a browser test:
tests-e2e/browser/test_preferences.py): the link must be signed for this business, the form token is
bound to the link, and posts are limited per address."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

from nujoomy_kit.member_links import sign_member_link
from nujoomy_partner_gateway.bff.join import form_token
from nujoomy_partner_gateway.bff.preferences import _form_scope
from nujoomy_testing.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import Business


def _link(tokens: TestTokens, tenant_id: uuid.UUID, *, age: float = 0) -> str:
    return sign_member_link(
        tokens.member_link_private_pem,
        "preferences",
        tenant_id=tenant_id,
        member_id=uuid.uuid4(),
        mode="live",
        now=time.time() - age,
    )


async def test_links_for_another_business_expired_or_for_another_purpose_are_refused(
    web: Any, acme: Business, tokens: TestTokens
) -> None:
    other_business = _link(tokens, uuid.uuid4())
    expired = _link(tokens, acme.tenant_id, age=181 * 86400)
    other_purpose = sign_member_link(
        tokens.member_link_private_pem, "erase", tenant_id=acme.tenant_id, member_id=uuid.uuid4(), mode="live"
    )
    for token in (other_business, expired, other_purpose, "", "garbage"):
        page = await web.get("/join/acme/preferences", params={"t": token})
        assert page.status_code == 403, token
        assert 'data-testid="preferences-invalid"' in page.text
        assert 'name="form_token"' not in page.text


async def test_a_link_signed_with_an_internal_token_key_is_refused(
    web: Any, acme: Business, tokens: TestTokens
) -> None:
    """The preference link has its own key pair: wallet-pass's internal-token key (which signs its calls
    to siblings) or the gateway's own cannot make one."""
    for caller in ("wallet-pass", "partner-gateway"):
        forged = sign_member_link(
            tokens.private_pems[caller],
            "preferences",
            tenant_id=acme.tenant_id,
            member_id=uuid.uuid4(),
            mode="live",
        )
        page = await web.get("/join/acme/preferences", params={"t": forged})
        assert page.status_code == 403, caller
        assert 'data-testid="preferences-invalid"' in page.text


async def test_a_post_needs_a_form_token_bound_to_its_link(
    web: Any, acme: Business, tokens: TestTokens
) -> None:
    link, another = _link(tokens, acme.tenant_id), _link(tokens, acme.tenant_id)
    from nujoomy_partner_gateway.bff.config import web_settings

    secret = web_settings(web.app.state).secret
    lifted = form_token(secret, _form_scope("acme", another))  # a genuine token, for another member's page
    for token in ("", "123.abc", lifted, form_token("not-our-secret", _form_scope("acme", link))):
        answer = await web.post(
            "/join/acme/preferences", data={"t": link, "form_token": token, "consent_email": "1"}
        )
        assert answer.status_code == 400, token
        assert 'data-code="join_rejected"' in answer.text


async def test_preference_posts_are_rate_limited_per_address(web: Any, acme: Business) -> None:
    statuses = [
        (await web.post("/join/acme/preferences", data={"t": "x", "form_token": "x"})).status_code
        for _ in range(12)
    ]
    assert statuses == [400] * 10 + [429, 429]
