"""A customer joins on their phone (390 x 844): in their language, with their number typed the local way,
and leaves with the card buttons. Typing an address that already has a card sends that card to the
address again, never a second member and never the card to the asker, and only a few times a day."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from nujoomy_kit.db import plain_url
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
from web_stack import Business, Stack, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"width": 390, "height": 844}


async def _program_known_to_ledger(stack: Stack, business: Business) -> None:
    """The ledger reads a local phone number in the country of the program it has projected."""

    async def rows() -> int:
        conn = await asyncpg.connect(plain_url(stack.ledger_db))
        try:
            return int(
                await conn.fetchval("SELECT count(*) FROM programs WHERE tenant_id = $1", business.tenant_id)
            )
        finally:
            await conn.close()

    await eventually(rows, lambda n: n == 2, timeout=30)  # live and test


async def _members(stack: Stack, tokens: TestTokens, business: Business) -> list[dict[str, Any]]:
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        return list((await ledger.get("/internal/v1/members")).json()["data"])


async def _join(
    page: Page, *, name: str = "", email: str = "", phone: str = "", consent: bool = True
) -> None:
    form = page.get_by_test_id("join-form")
    await form.locator("input[name=name]").fill(name)
    await form.locator("input[name=email]").fill(email)
    await form.locator("input[name=phone]").fill(phone)
    if consent:
        await form.locator("input[name=consent]").check()
    await form.locator("button[type=submit]").click()


async def test_after_joining_the_phone_shows_the_card_buttons_not_the_form(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "sidra", country="AE")
    await _program_known_to_ledger(stack, business)
    page = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    await page.goto(f"{site}/join/sidra")
    await expect(page.get_by_test_id("join-form")).to_be_visible()
    await shot(page, "join")

    await _join(page, name="Huda", phone="050 123 4567")
    buttons = page.get_by_test_id("card-buttons")
    await expect(buttons).to_be_visible()
    await expect(page.get_by_test_id("join-form")).to_have_count(0)
    await expect(page.get_by_test_id("poster")).to_have_count(0)  # no "Scan to join" once joined
    for button in ("add-apple", "add-google", "open-card"):
        await expect(page.get_by_test_id(button)).to_be_visible()
    assert "/cards/" in (await page.get_by_test_id("open-card").get_attribute("href") or "")
    await shot(page, "join-done")
    # Stored the way an SMS provider dials it, read in the business's country.
    assert [m["phone"] for m in await _members(stack, tokens, business)] == ["+971501234567"]


async def test_a_number_that_is_not_one_gets_a_clear_message_in_the_customers_language(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "qasr", country="AE")
    await _program_known_to_ledger(stack, business)
    page = await (await browser.new_context(viewport=PHONE, locale="ar-AE")).new_page()
    await page.goto(f"{site}/join/qasr")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await _join(page, name="هدى", phone="12 34")
    error = page.get_by_test_id("join-error")
    await expect(error).to_contain_text("رقم الهاتف")  # "phone number", in Arabic
    assert "[0-9" not in (await error.inner_text())  # no regular expression shown to a customer
    await expect(page.get_by_test_id("join-form").locator("input[name=name]")).to_have_value("هدى")
    assert await _members(stack, tokens, business) == []


async def test_the_page_follows_the_browsers_language_and_switches_between_english_and_arabic(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "bayt")
    page = await (await browser.new_context(viewport=PHONE, locale="ar-AE")).new_page()
    await page.goto(f"{site}/join/bayt")
    html = page.locator("html")
    await expect(html).to_have_attribute("lang", "ar")
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(page.locator("h1")).to_have_text("انضم إلى Bayt")
    await page.get_by_test_id("other-language").click()
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(page.locator("h1")).to_have_text("Join Bayt")
    await page.get_by_test_id("other-language").click()
    await expect(html).to_have_attribute("lang", "ar")
    await _join(page, name="Salma", email="salma@example.com")
    await expect(page.get_by_test_id("card-buttons")).to_be_visible()
    await expect(html).to_have_attribute("dir", "rtl")  # the answer speaks the page's language
    members = await _members(stack, tokens, business)
    assert [m["locale"] for m in members] == ["ar"]  # and so will her messages


async def test_a_known_address_gets_its_own_card_again_never_a_second_member_and_only_three_times_a_day(
    stack: Stack, mail: Any, site: str, browser: Browser, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "nakhla")
    context = await browser.new_context(viewport=PHONE, locale="en-GB")
    page = await context.new_page()
    await page.goto(f"{site}/join/nakhla")
    await _join(page, name="Mona", email="mona@example.com")
    await expect(page.get_by_test_id("card-buttons")).to_be_visible()
    await eventually(lambda: _sent_to(mail, "mona@example.com"), lambda n: n == 1, timeout=30)

    # Someone types her address again (another case): no second member, no card shown to them.
    for expected_sends in (2, 3):
        await page.goto(f"{site}/join/nakhla")
        await _join(page, name="Not Mona", email="MONA@example.com ")
        await expect(page.get_by_test_id("join-resent")).to_be_visible()
        await expect(page.get_by_test_id("card-buttons")).to_have_count(0)
        await expect(page.get_by_test_id("join-form")).to_have_count(0)
        await eventually(
            lambda: _sent_to(mail, "mona@example.com"), lambda n, e=expected_sends: n == e, timeout=30
        )
    # The fourth of the day is refused: the page cannot be used to bomb an inbox.
    await page.goto(f"{site}/join/nakhla")
    await _join(page, email="mona@example.com")
    resent = page.get_by_test_id("join-resent")
    await expect(resent).to_contain_text("already been sent several times today")
    members = await _members(stack, tokens, business)
    assert [(m["name"], m["email"]) for m in members] == [("Mona", "mona@example.com")]
    resends = await mail.fetch("SELECT count(*) AS n FROM messages WHERE kind = 'welcome'")
    assert resends[0]["n"] == 3
    assert await _sent_to(mail, "mona@example.com") == 3


async def _sent_to(mail: Any, address: str) -> int:
    return sum(1 for message in mail.sink.messages if message.rcpt_to == [address])
