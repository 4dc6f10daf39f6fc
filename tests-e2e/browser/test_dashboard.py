"""What people do through the web app, in Debian's Chromium against the real services."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
from web_stack import PASSWORD, Stack, add_staff, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


async def sign_in(browser: Browser, site: str, slug: str, email: str, **context: Any) -> Page:
    options: dict[str, Any] = {"viewport": {"width": 1200, "height": 860}, **context}
    page = await (await browser.new_context(**options)).new_page()
    await page.goto(f"{site}/app/login")
    await page.fill("input[name=tenant]", slug)
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    return page


async def set_color(page: Page, name: str, value: str) -> None:
    await page.eval_on_selector(
        f"input[name={name}]",
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        value,
    )


async def test_owner_edits_branding_with_live_preview_and_sees_the_resync(
    stack: Stack, site: str, browser: Browser, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "bakery")
    page = await sign_in(browser, site, "bakery", business.owner_email)
    await expect(page.get_by_test_id("overview")).to_be_visible()

    await page.goto(f"{site}/app/program")
    apple = page.get_by_test_id("preview-apple")
    await page.fill("input[name=program_name]", "Bakery Crumbs")
    await page.fill("input[name=balance_label]", "Crumbs")
    await set_color(page, "background_color", "#7a1f5c")
    await expect(apple.locator("[data-bind=name]")).to_have_text("Bakery Crumbs")
    await expect(page.get_by_test_id("preview-google").locator("[data-bind=label]")).to_have_text("Crumbs")
    background = await apple.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(122, 31, 92)"
    await page.click("#branding-form button[type=submit]")
    await expect(page.locator("#save-status")).to_have_attribute("data-state", "saved")
    # No pass is installed yet, so the re-sync is complete at once and says there is nothing to update.
    await expect(page.get_by_test_id("sync-progress")).to_have_attribute("data-done", "1")
    await expect(page.get_by_test_id("sync-progress")).to_contain_text("No cards installed yet")
    await shot(page, "program-branding")
    await page.reload()
    await expect(page.locator("input[name=program_name]")).to_have_value("Bakery Crumbs")


async def test_owner_creates_a_test_key_and_a_webhook_endpoint_and_sees_a_delivery(
    stack: Stack, site: str, browser: Browser, partner_endpoint: Any, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "diner")
    page = await sign_in(browser, site, "diner", business.owner_email)
    await page.get_by_test_id("mode-switch").click()
    await expect(page.locator("body.test-mode")).to_be_visible()
    await page.goto(f"{site}/app/developers")
    await page.get_by_test_id("key-name").fill("POS integration")
    await page.get_by_test_id("create-key").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("API key created.")
    secret = await page.get_by_test_id("new-secret").locator("code").inner_text()
    assert secret.startswith("nj_test_")
    await expect(page.get_by_test_id("keys")).to_contain_text("POS integration")

    await page.get_by_test_id("webhook-url").fill(partner_endpoint.url)
    await page.get_by_test_id("add-webhook").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Webhook endpoint added.")
    assert (await page.get_by_test_id("new-secret").locator("code").inner_text()).startswith("whsec_")
    await expect(page.get_by_test_id("endpoint")).to_contain_text(partner_endpoint.url)
    await page.get_by_test_id("webhook-test").click()
    # The gateway's dispatcher posts it to the partner; the delivery log shows the outcome.
    await eventually(lambda: _deliveries(page, site), lambda text: "Delivered" in text, timeout=20)
    assert partner_endpoint.received, "the partner endpoint received the test event"
    await shot(page, "developers")

    await page.goto(f"{site}/app/developers")
    await expect(page.get_by_test_id("new-secret")).to_have_count(0)  # secrets are shown once only
    await expect(page.get_by_test_id("keys")).to_contain_text("POS integration")


async def _deliveries(page: Page, site: str) -> str:
    await page.goto(f"{site}/app/developers")  # a GET: reloading the POST answer would resend it
    return await page.get_by_test_id("deliveries").inner_text()


async def test_staff_scans_with_a_wedge_earns_redeems_and_undoes(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "roastery")
    await add_staff(stack.tenant_db, business, "barista@roastery.test", "staff")
    owner = await sign_in(browser, site, "roastery", business.owner_email)
    await owner.goto(f"{site}/app/rewards")
    await owner.fill("input[name=name]", "Espresso")
    await owner.fill("input[name=cost]", "10")
    await owner.click("form.card button.primary")
    await expect(owner.get_by_test_id("rewards")).to_contain_text("Espresso")

    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        # the reward reaches the ledger through tenant.program.updated (outbox -> broker -> consumer)
        await eventually(
            lambda: ledger.get("/internal/v1/rewards"),
            lambda r: r.status_code == 200 and "Espresso" in r.text,
            timeout=20,
        )
        member = (
            await ledger.post("/internal/v1/members", json={"name": "Omar", "phone": "+971500000001"})
        ).json()

    page = await sign_in(
        browser, site, "roastery", "barista@roastery.test", viewport={"width": 420, "height": 900}
    )
    await expect(page.get_by_test_id("card-code")).to_be_focused()
    await expect(page.locator("body[data-scanner-ready]")).to_have_count(1)
    await page.keyboard.type(member["card_token"])  # a keyboard-wedge scanner types, then Enter
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("member-panel")).to_be_visible()
    await expect(page.get_by_test_id("balance")).to_have_text("0")
    for key in ("1", "2"):
        await page.click(f"#keypad [data-key='{key}']")
    await expect(page.get_by_test_id("amount")).to_have_text("12")
    # A flaky counter connection: the first earn reaches the ledger but its answer is lost. The page
    # retries with the same idempotency key, so the points are posted once.
    sent: list[str] = []

    async def lose_first_answer(route: Any) -> None:
        sent.append(route.request.post_data or "")
        if len(sent) == 1:
            await route.fetch()  # the server does the work...
            await route.abort("connectionreset")  # ...and the answer never arrives
        else:
            await route.continue_()

    await page.route("**/bff/scan/earn", lose_first_answer)
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Earned 12 Points")
    await expect(page.get_by_test_id("balance")).to_have_text("12")
    assert len(sent) == 2
    assert json.loads(sent[0])["idempotency_key"] == json.loads(sent[1])["idempotency_key"]
    await page.unroute("**/bff/scan/earn")
    await page.get_by_test_id("rewards").get_by_role("button", name="Espresso · 10").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Redeemed 10 Points")
    await expect(page.get_by_test_id("balance")).to_have_text("2")
    await page.get_by_test_id("undo").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Undone")
    await expect(page.get_by_test_id("balance")).to_have_text("12")

    # The owner's overview now shows the points in the liability and a day with transactions.
    await owner.goto(f"{site}/app")
    await expect(owner.get_by_test_id("stat-outstanding")).to_have_text("12")
    await expect(owner.get_by_test_id("stat-members")).to_have_text("1")
    # Pass counts come from wallet-pass (no device has installed the card in this test: 0, not "—").
    await expect(owner.get_by_test_id("stat-passes-apple")).to_have_text("0")
    await expect(owner.locator("svg.chart").first).to_be_visible()
    await shot(owner, "overview")


async def test_staff_cannot_open_owner_pages(stack: Stack, site: str, browser: Browser, shot: Any) -> None:
    business = await create_business(stack.tenant_db, "kiosk")
    await add_staff(stack.tenant_db, business, "till@kiosk.test", "staff")
    page = await sign_in(browser, site, "kiosk", "till@kiosk.test")
    await expect(page).to_have_url(f"{site}/app/scan")
    for path in ("/app/staff", "/app/developers", "/app/program"):
        response = await page.goto(f"{site}{path}")
        assert response is not None, path
        assert response.status == 403, path
        await expect(page.get_by_test_id("error-page")).to_have_attribute("data-code", "forbidden")
    await expect(page.locator("nav")).not_to_contain_text("Staff")
    await shot(page, "forbidden")


async def test_customer_joins_and_gets_both_wallet_links(
    stack: Stack, site: str, browser: Browser, shot: Any
) -> None:
    await create_business(stack.tenant_db, "souk")
    page = await (await browser.new_context(viewport={"width": 1000, "height": 900})).new_page()
    await page.goto(f"{site}/join/souk")
    await expect(page.get_by_test_id("join-form")).to_be_visible()
    await expect(page.locator(".poster svg")).to_be_visible()
    # join.png and join-done.png are the phone's (test_join_journey.py), where customers join.
    await page.fill("input[name=name]", "Huda")
    await page.fill("input[name=email]", "huda@example.com")
    await page.check("input[name=consent]")
    await page.click("[data-testid=join-form] button[type=submit]")
    await expect(page.get_by_test_id("joined")).to_be_visible()
    apple = await page.get_by_test_id("add-apple").get_attribute("href")
    google = await page.get_by_test_id("add-google").get_attribute("href")
    assert apple
    assert "/apple/passes/" in apple
    assert google
    assert google.startswith("https://pay.google.com/gp/v/save/")
    await expect(page.locator(".poster")).to_have_count(0)


async def test_sign_in_page_in_arabic_is_right_to_left(
    stack: Stack, site: str, browser: Browser, shot: Any
) -> None:
    arabic = await (
        await browser.new_context(locale="ar", extra_http_headers={"Accept-Language": "ar"})
    ).new_page()
    await arabic.goto(f"{site}/app/login")
    await expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    await expect(arabic.locator("button[type=submit]")).to_have_text("تسجيل الدخول")
    await shot(arabic, "sign-in-arabic")
