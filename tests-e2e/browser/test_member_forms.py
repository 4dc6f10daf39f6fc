"""The member page's adjust and reverse forms and the set-password page as people use them on a
1280 x 800 laptop: each form posts, then redirects to the page with a notice in the reader's language;
a refused form comes back with the reason and what was typed; a refresh only reads the page again."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_owner_config import LAPTOP, owner_page  # noqa: E402
from web_stack import Business, Stack, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _posts(page: Page) -> list[str]:
    """Every POST the page sends from now on (a refresh of a posted page would send one)."""
    sent: list[str] = []
    page.on("request", lambda r: r.method == "POST" and sent.append(r.url))
    return sent


async def _member_with_points(stack: Stack, tokens: TestTokens, business: Business) -> str:
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        member = (
            await ledger.post("/internal/v1/members", json={"name": "Rami", "email": "rami@x.test"})
        ).json()
        # the program reaches the ledger through tenant.program.updated: the first earn may wait
        await eventually(
            lambda: ledger.post(
                f"/internal/v1/members/{member['id']}/earn",
                json={"points": 10, "idempotency_key": uuid.uuid4().hex},
            ),
            lambda r: r.status_code == 200,
            timeout=20,
        )
    return str(member["id"])


async def test_adjust_and_reverse_redirect_with_a_notice_keep_what_was_typed_and_never_post_twice(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "adjusts")
    member = await _member_with_points(stack, tokens, business)
    page = await owner_page(browser, site, business)
    url = f"{site}/app/members/{member}"
    await page.goto(url)
    balance = page.get_by_test_id("member-balance")
    await expect(balance).to_have_text("10")

    # Refused: the reason in words, what was typed still in the form.
    await page.locator("form[action$='/adjust'] input[name=points]").fill("0")
    await page.locator("form[action$='/adjust'] input[name=reason]").fill("welcome back")
    await page.locator("form[action$='/adjust'] input[name=reason]").press("Enter")
    await expect(page).to_have_url(url)
    await expect(page.get_by_test_id("flash-error")).to_have_text(
        "Give a number of points other than zero and a reason."
    )
    await expect(page.locator("form[action$='/adjust'] input[name=points]")).to_have_value("0")
    await expect(page.locator("form[action$='/adjust'] input[name=reason]")).to_have_value("welcome back")

    await page.locator("form[action$='/adjust'] input[name=points]").fill("5")
    await page.locator("form[action$='/adjust'] input[name=reason]").press("Enter")
    await expect(page).to_have_url(url)
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Points adjusted.")
    await expect(balance).to_have_text("15")
    await expect(page.locator("form[action$='/adjust'] input[name=reason]")).to_have_value("")
    await shot(page, "member-adjusted")
    posts = _posts(page)
    await page.reload()
    await expect(balance).to_have_text("15")  # the refresh adjusted nothing
    await expect(page.get_by_test_id("flash-notice")).to_have_count(0)
    assert posts == []

    # The adjustment (the newest row) is reversed the same way.
    row = page.get_by_test_id("transactions").locator("tbody tr").first
    await row.locator("input[name=reason]").fill("wrong member")
    await row.get_by_role("button").click()
    await expect(page).to_have_url(url)
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Transaction reversed.")
    await expect(balance).to_have_text("10")
    posts.clear()
    await page.reload()
    await expect(balance).to_have_text("10")
    await expect(page.get_by_test_id("flash-notice")).to_have_count(0)
    assert posts == []

    # A reversal refused by the ledger (here: another tab reversed it first) says why, translated.
    arabic = await owner_page(
        browser, site, business, locale="ar", extra_http_headers={"Accept-Language": "ar"}
    )
    await arabic.goto(url)
    other = arabic.get_by_test_id("transactions").locator("tbody tr").last  # the earn
    await other.locator("input[name=reason]").fill("سهو")
    await page.get_by_test_id("transactions").locator("tbody tr").last.locator("input[name=reason]").fill("x")
    await page.get_by_test_id("transactions").locator("tbody tr").last.get_by_role("button").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Transaction reversed.")
    await other.get_by_role("button").click()
    await expect(arabic).to_have_url(url)
    await expect(arabic.get_by_test_id("flash-error")).to_be_visible()
    assert not re.search(r"[A-Za-z]{2,}", await arabic.get_by_test_id("flash-error").inner_text())


async def test_setting_a_password_redirects_and_a_refresh_never_spends_the_link_again(
    stack: Stack, site: str, browser: Browser
) -> None:
    business = await create_business(stack.tenant_db, "newstaff")
    owner = await owner_page(browser, site, business)
    await owner.goto(f"{site}/app/staff")
    form = owner.get_by_test_id("create-form")
    await form.locator("input[name=email]").fill("lina@newstaff.test")
    await form.locator("input[name=name]").fill("Lina")
    await form.locator("button").click()
    link = re.search(r"/app/password\?token=\S+", await owner.get_by_test_id("notice").inner_text())
    assert link

    page = await (await browser.new_context(viewport=LAPTOP)).new_page()
    await page.goto(f"{site}{link.group(0)}")
    await page.fill("input[name=password]", "a long new passphrase")
    await page.get_by_test_id("password-form").locator("button[type=submit]").click()
    await expect(page).to_have_url(f"{site}/app/password")
    await expect(page.get_by_test_id("password-set")).to_have_text(
        "Your password is set. You can sign in now."
    )
    posts = _posts(page)
    await page.reload()
    assert posts == []  # the refresh reads the page; it does not send the password again
    await expect(page.get_by_test_id("password-set")).to_have_count(0)

    # The spent link: refused in words, and the form still works with the link it came from.
    await page.goto(f"{site}{link.group(0)}")
    await page.fill("input[name=password]", "another passphrase!")
    await page.get_by_test_id("password-form").locator("button[type=submit]").click()
    await expect(page).to_have_url(f"{site}/app/password")
    await expect(page.get_by_role("alert")).to_be_visible()
    token = link.group(0).split("token=", 1)[1]
    await expect(page.locator("input[name=token]")).to_have_value(token)
    await expect(page.locator("input[name=password]")).to_have_value("")  # never kept

    await page.goto(f"{site}/app/login")
    await page.fill("input[name=tenant]", business.slug)
    await page.fill("input[name=email]", "lina@newstaff.test")
    await page.fill("input[name=password]", "a long new passphrase")
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/app(/scan)?$"))
