"""The consent page the back of the Apple pass links to: a customer opts out without an account, and
the notification service stops sending what depended on that consent."""

from __future__ import annotations

import io
import json
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from nujoomy_kit.ids import encode_id
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import Browser, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
from web_stack import Stack, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _same_path_on(base: str, url: str) -> str:
    """A public link (https://loyalty.example/...) on the locally served service."""
    parts = urlsplit(url)
    return f"{base}{parts.path}" + (f"?{parts.query}" if parts.query else "")


async def _pass_json(stack: Stack, apple_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        # wallet-pass's worker projects the new member from ledger.member.enrolled: until then, 404
        answer = await eventually(
            lambda: client.get(_same_path_on(stack.wallet_pass_url, apple_url)),
            lambda r: r.status_code == 200,
            timeout=30,
        )
    with zipfile.ZipFile(io.BytesIO(answer.content)) as pkpass:
        return dict(json.loads(pkpass.read("pass.json")))


def _consent_link(pass_json: dict[str, Any]) -> str:
    backs = {f["key"]: f for f in pass_json["storeCard"]["backFields"]}
    value = backs["consent"]["attributedValue"]
    return value[value.index("href='") + 6 : value.index("'>")]


async def test_customer_opts_out_of_news_and_offers_from_the_pass_link_and_still_gets_receipts(
    stack: Stack, mail: Any, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "dates")
    page = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
    await page.goto(f"{site}/join/dates")
    await page.fill("input[name=name]", "Mariam")
    await page.fill("input[name=email]", "mariam@example.com")
    await page.check("input[name=consent]")
    await page.click("[data-testid=join-form] button[type=submit]")
    apple = await page.get_by_test_id("add-apple").get_attribute("href")
    assert apple
    # She consented at the counter: the welcome email goes out.
    await eventually(lambda: _sent(mail), lambda sent: len(sent) == 1, timeout=30)

    # The link on the back of her pass, as the pass carries it.
    link = _consent_link(await _pass_json(stack, apple))
    assert "/join/dates/preferences?t=" in link
    await page.goto(_same_path_on(site, link))
    form = page.get_by_test_id("preferences-form")
    await expect(form).to_be_visible()
    await expect(page.get_by_test_id("consent-email")).to_be_checked()
    await expect(form).to_contain_text("m•••@example.com")  # the address on file, masked
    await expect(page.get_by_test_id("consent-sms")).to_have_count(0)  # no phone on file
    await page.get_by_test_id("other-language").click()
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await shot(page, "preferences-arabic")
    await page.get_by_test_id("other-language").click()
    await expect(page.locator("html")).to_have_attribute("dir", "ltr")

    await page.get_by_test_id("consent-email").uncheck()
    await page.get_by_test_id("preferences-save").click()
    await expect(page.get_by_test_id("preferences-saved")).to_be_visible()
    await expect(page.get_by_test_id("consent-email")).not_to_be_checked()
    await shot(page, "preferences")

    contact = await eventually(
        lambda: mail.fetch(
            "SELECT member_id, consent_email FROM contacts WHERE email = $1", "mariam@example.com"
        ),
        lambda rows: len(rows) == 1 and rows[0]["consent_email"] is False,
        timeout=30,
    )
    member_id = contact[0]["member_id"]
    assert isinstance(member_id, uuid.UUID)

    # An earn at the counter: a receipt is not marketing, so withdrawing news and offers does not
    # stop it (notification's policy: marketing consent governs marketing only).
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        earned = await ledger.post(
            f"/internal/v1/members/{encode_id('mbr', member_id)}/earn",
            json={"points": 15, "idempotency_key": "prefs-earn-1"},
        )
        assert earned.status_code in (200, 201), earned.text
    rows = await eventually(
        lambda: mail.fetch("SELECT status, reason FROM messages WHERE kind = 'points_earned'"),
        lambda found: len(found) == 1,
        timeout=30,
    )
    assert rows[0]["status"] in ("queued", "sent"), rows[0]
    await eventually(lambda: _sent(mail), lambda sent: len(sent) == 2, timeout=30)


async def _sent(mail: Any) -> list[Any]:
    return list(mail.sink.messages)


async def test_a_forged_or_foreign_link_shows_how_to_get_a_fresh_one(
    stack: Stack, site: str, browser: Browser
) -> None:
    await create_business(stack.tenant_db, "figs")
    page = await (await browser.new_context()).new_page()
    for query in ("", "?t=AAAA", "?t=" + "A" * 136):
        answer = await page.goto(f"{site}/join/figs/preferences{query}")
        assert answer is not None
        assert answer.status == 403, query
        await expect(page.get_by_test_id("preferences-invalid")).to_be_visible()
        await expect(page.get_by_test_id("preferences-form")).to_have_count(0)
