"""The public join page: branded from the real tenant service, a QR for the counter poster, and the
bot defences (honeypot, signed dated form token, per-IP limit in Redis)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

from nujoomy_partner_gateway.bff.join import form_token, form_token_valid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import Business


def token_in(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "the join form carries a signed token"
    return found.group(1)


async def test_join_page_is_branded_and_carries_a_poster_qr(web: Any, acme: Business) -> None:
    page = await web.get("/join/acme")
    assert page.status_code == 200
    assert "Join Acme" in page.text
    assert "--bg: #1F2937" in page.text  # the tenant's own colours
    assert "<svg" in page.text
    assert "<path" in page.text  # the QR, rendered server-side
    assert 'name="website"' in page.text  # the honeypot


async def test_unknown_business_is_a_404_page(web: Any, acme: Business) -> None:
    page = await web.get("/join/nobody-here")
    assert page.status_code == 404


async def test_a_filled_honeypot_is_refused(web: Any, acme: Business) -> None:
    token = token_in((await web.get("/join/acme")).text)
    answer = await web.post(
        "/join/acme", data={"form_token": token, "website": "http://spam", "email": "bot@example.com"}
    )
    assert answer.status_code == 400
    assert 'data-code="join_rejected"' in answer.text


async def test_a_forged_or_foreign_form_token_is_refused(web: Any, acme: Business) -> None:
    for bad in ("", "123.abc", form_token("another-secret", "acme")):
        answer = await web.post("/join/acme", data={"form_token": bad, "email": "a@example.com"})
        assert answer.status_code == 400, bad


def test_form_tokens_expire_and_are_bound_to_the_slug() -> None:
    now = time.time()
    token = form_token("s3cret", "acme", now=now)
    assert form_token_valid("s3cret", "acme", token, max_age=60, now=now + 30)
    assert not form_token_valid("s3cret", "acme", token, max_age=60, now=now + 61)
    assert not form_token_valid("s3cret", "globex", token, max_age=60, now=now)


async def test_sign_ups_are_rate_limited_per_address(web: Any, acme: Business) -> None:
    statuses = []
    for _ in range(12):  # the default allows 10 a minute
        answer = await web.post("/join/acme", data={"form_token": "x", "email": "a@example.com"})
        statuses.append(answer.status_code)
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
