"""The owner's configuration pages as an owner uses them on a 1280 x 800 laptop, in Debian's Chromium
against the real services: destructive actions ask first (a dialog under the page CSP, a page without
script), every form posts then redirects with a notice, rewards/locations/rules/logo are editable,
test mode says plainly that the program is the live one, Arabic has no English left, and the colours
and names assistive technology needs are there."""

from __future__ import annotations

import io
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
from web_stack import PASSWORD, Business, Stack, add_staff, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LAPTOP = {"width": 1280, "height": 800}


async def owner_page(browser: Browser, site: str, business: Business, **context: Any) -> Page:
    options: dict[str, Any] = {"viewport": LAPTOP, **context}
    page = await (await browser.new_context(**options)).new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and page.csp_errors.append(m.text),  # type: ignore[attr-defined]
    )
    await page.goto(f"{site}/app/login")
    await page.fill("input[name=tenant]", business.slug)
    await page.fill("input[name=email]", business.owner_email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/app(/scan)?$"))
    return page


def internal(stack: Stack, tokens: TestTokens, business: Business, service: str) -> httpx.AsyncClient:
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to=service))
    url = {"tenant": stack.tenant_url, "ledger": stack.ledger_url}[service]
    return httpx.AsyncClient(base_url=url, headers=headers)


async def tenant_program(stack: Stack, tokens: TestTokens, business: Business) -> dict[str, Any]:
    async with internal(stack, tokens, business, "tenant") as tenant:
        return dict((await tenant.get("/internal/v1/program")).json())


def png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 320), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def asks(page: Page, question: str) -> None:
    """The shared confirmation: a modal dialog naming the consequence, focus on Cancel."""
    dialog = page.get_by_role("dialog", name="Are you sure?")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(question)
    await expect(page.get_by_test_id("confirm-cancel")).to_be_focused()


async def answer(page: Page, yes: bool) -> None:
    await page.get_by_test_id("confirm-yes" if yes else "confirm-cancel").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()


# 1. Destructive actions ask first -------------------------------------------------------------------


async def test_erasing_a_member_asks_in_a_dialog_and_without_script_on_a_page(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "gdpr")
    async with internal(stack, tokens, business, "ledger") as ledger:
        first = (
            await ledger.post("/internal/v1/members", json={"name": "Mona", "email": "mona@x.test"})
        ).json()
        second = (
            await ledger.post("/internal/v1/members", json={"name": "Nour", "email": "nour@x.test"})
        ).json()

        page = await owner_page(browser, site, business)
        await page.goto(f"{site}/app/members/{first['id']}")
        await page.get_by_test_id("erase").click()
        await asks(page, "Erase this member for good?")
        await answer(page, yes=False)
        assert (await ledger.get(f"/internal/v1/members/{first['id']}")).json()["name"] == "Mona"

        await page.get_by_test_id("erase").click()
        await asks(page, "Erase this member for good?")
        await shot(page, "confirm-erase")
        await answer(page, yes=True)
        await expect(page).to_have_url(f"{site}/app/members")
        await expect(page.get_by_test_id("flash-notice")).to_have_text("The member was erased.")
        assert (await ledger.get(f"/internal/v1/members/{first['id']}")).json()["name"] is None
        assert page.csp_errors == []  # type: ignore[attr-defined]

        # Without script the same button leads to a confirmation page; nothing is erased before it.
        plain = await owner_page(browser, site, business, java_script_enabled=False)
        await plain.goto(f"{site}/app/members/{second['id']}")
        await plain.get_by_test_id("erase").click()
        await expect(plain.get_by_test_id("confirm-page")).to_contain_text("Erase this member for good?")
        assert (await ledger.get(f"/internal/v1/members/{second['id']}")).json()["name"] == "Nour"
        await plain.get_by_test_id("confirm-page").get_by_test_id("confirm-yes").click()
        await expect(plain.get_by_test_id("flash-notice")).to_have_text("The member was erased.")
        assert (await ledger.get(f"/internal/v1/members/{second['id']}")).json()["name"] is None


async def test_revoking_a_key_rotating_a_secret_and_disabling_staff_ask_first(
    stack: Stack, site: str, browser: Browser, partner_endpoint: Any
) -> None:
    business = await create_business(stack.tenant_db, "careful")
    await add_staff(stack.tenant_db, business, "sam@careful.test", "staff")
    page = await owner_page(browser, site, business)
    await page.goto(f"{site}/app/developers")
    await page.get_by_test_id("key-name").fill("Till")
    await page.get_by_test_id("create-key").click()
    await page.get_by_test_id("key-revoke").click()
    await asks(page, "Revoke this API key?")
    await answer(page, yes=False)
    await expect(page.get_by_test_id("key-row")).not_to_contain_text("revoked")
    await page.get_by_test_id("key-revoke").click()
    await answer(page, yes=True)
    await expect(page.get_by_test_id("flash-notice")).to_have_text("API key revoked.")
    await expect(page.get_by_test_id("key-row")).to_contain_text("revoked")

    await page.get_by_test_id("webhook-url").fill(partner_endpoint.url)
    await page.get_by_test_id("add-webhook").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Webhook endpoint added.")
    created = await page.get_by_test_id("new-secret").locator("code").inner_text()
    await page.get_by_test_id("webhook-rotate").click()
    await asks(page, "Rotate this endpoint's signing secret?")
    await answer(page, yes=False)
    await page.get_by_test_id("webhook-reveal").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("The current signing secret:")
    assert await page.get_by_test_id("new-secret").locator("code").inner_text() == created, "not rotated"

    await page.goto(f"{site}/app/staff")
    row = page.get_by_test_id("row").filter(has_text="sam@careful.test")
    await row.get_by_test_id("disable").click()
    await asks(page, "Disable this staff member?")
    await answer(page, yes=False)
    await expect(row.locator("td").nth(3)).to_have_text("No")
    await row.get_by_test_id("disable").click()
    await answer(page, yes=True)
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Staff member disabled.")
    await expect(row.locator("td").nth(3)).to_have_text("Yes")


# 2. Post → redirect → get, a notice, typed values kept ----------------------------------------------


async def test_forms_redirect_with_a_notice_and_a_refresh_repeats_nothing(
    stack: Stack, site: str, browser: Browser, partner_endpoint: Any
) -> None:
    business = await create_business(stack.tenant_db, "refresh")
    page = await owner_page(browser, site, business)
    await page.goto(f"{site}/app/developers")
    await page.get_by_test_id("key-name").fill("POS")
    await page.get_by_test_id("create-key").click()
    await expect(page).to_have_url(f"{site}/app/developers")
    await expect(page.get_by_test_id("flash-notice")).to_have_text("API key created.")
    assert (await page.get_by_test_id("new-secret").locator("code").inner_text()).startswith("nj_live_")
    await page.reload()
    await expect(page.get_by_test_id("key-row")).to_have_count(1)  # no second key
    await expect(page.get_by_test_id("new-secret")).to_have_count(0)  # the secret was shown once
    await expect(page.get_by_test_id("flash-notice")).to_have_count(0)

    await page.get_by_test_id("webhook-url").fill(partner_endpoint.url)
    await page.get_by_test_id("add-webhook").click()
    await expect(page).to_have_url(f"{site}/app/developers")
    await expect(page.get_by_test_id("new-secret")).to_be_visible()
    await page.reload()
    await expect(page.get_by_test_id("endpoint")).to_have_count(1)
    await expect(page.get_by_test_id("new-secret")).to_have_count(0)

    # A refused reward comes back with the reason and what was typed.
    await page.goto(f"{site}/app/rewards")
    await page.fill("#new-name", "Free croissant")
    await page.fill("#new-cost", "0")
    await page.get_by_test_id("create-form").locator("button").click()
    await expect(page).to_have_url(f"{site}/app/rewards")
    await expect(page.get_by_test_id("flash-error")).to_have_text("A reward costs at least 1 point.")
    await expect(page.locator("#new-name")).to_have_value("Free croissant")
    await page.fill("#new-cost", "5")
    await page.get_by_test_id("create-form").locator("button").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Added.")
    await expect(page.locator("#new-name")).to_have_value("")
    await page.reload()
    await expect(page.get_by_test_id("row")).to_have_count(1)


# 3. Rewards, locations, rules and the logo ----------------------------------------------------------


async def test_owner_edits_and_archives_rewards_and_locations_and_changes_the_rules(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "editor")
    page = await owner_page(browser, site, business)
    await page.goto(f"{site}/app/rewards")
    await page.fill("#new-name", "Latte")
    await page.fill("#new-cost", "10")
    await page.get_by_test_id("create-form").locator("button").click()
    row = page.get_by_test_id("row").filter(has_text="Latte")
    await row.get_by_text("Edit").click()
    await row.get_by_label("Cost (points)").fill("12")
    await row.get_by_label("Title").fill("Big latte")
    await shot(page, "rewards-edit")
    await row.get_by_test_id("edit-form").locator("button").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Saved.")
    await expect(page.get_by_test_id("rewards")).to_contain_text("Big latte")
    rewards = (await tenant_program(stack, tokens, business))["rewards"]
    assert [(r["name"], r["cost"]) for r in rewards] == [("Big latte", 12)]
    await page.get_by_test_id("row").get_by_test_id("archive").click()
    await asks(page, "Archive this reward?")
    await answer(page, yes=True)
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Archived.")
    await expect(page.get_by_test_id("row")).to_have_count(0)
    assert (await tenant_program(stack, tokens, business))["rewards"] == []

    await page.goto(f"{site}/app/locations")
    await page.fill("#new-name", "Downtown")
    await page.get_by_test_id("create-form").locator("button").click()
    row = page.get_by_test_id("row").filter(has_text="Downtown")
    await row.get_by_text("Edit").click()
    await row.get_by_label("Address").fill("1 Palm Street")
    await row.get_by_test_id("edit-form").locator("button").click()
    await expect(page.get_by_test_id("locations")).to_contain_text("1 Palm Street")
    await page.get_by_test_id("row").get_by_test_id("archive").click()
    await asks(page, "Archive this location?")
    await answer(page, yes=True)
    await expect(page.get_by_test_id("row")).to_have_count(0)

    await page.goto(f"{site}/app/program")
    before = await tenant_program(stack, tokens, business)
    rules = page.get_by_test_id("rules-form")
    await rules.locator("input[name=points_per_unit]").fill("3")
    await rules.locator("select[name=expiry_kind]").select_option("months_after_earn")
    await rules.locator("input[name=expiry_months]").fill("0")  # refused: months_after_earn needs 1..120
    await rules.locator("textarea[name=terms]").fill("Points are personal.")
    await page.get_by_test_id("save-rules").click()
    await expect(page.get_by_test_id("flash-error")).to_have_text("This value is not allowed: Months.")
    await expect(rules.locator("textarea[name=terms]")).to_have_value("Points are personal.")
    await expect(rules.locator("input[name=points_per_unit]")).to_have_value("3")
    await rules.locator("input[name=expiry_months]").fill("12")
    await page.get_by_test_id("save-rules").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Program rules saved.")
    after = await tenant_program(stack, tokens, business)
    assert after["earn_rule"]["points_per_unit"] == 3
    assert after["expiry"] == {"kind": "months_after_earn", "months": 12}
    assert after["wording"]["terms"] == "Points are personal."
    assert after["version"] == before["version"] + 1


async def test_logo_errors_are_translated_the_preview_never_breaks_and_the_logo_can_be_removed(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, tmp_path: Path
) -> None:
    business = await create_business(stack.tenant_db, "logos")
    page = await owner_page(browser, site, business)
    await page.goto(f"{site}/app/program")
    sync = page.get_by_test_id("sync-progress")
    await expect(sync).to_be_hidden()  # nothing saved yet, nothing being updated

    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    await page.set_input_files("input[name=logo]", str(notes))
    status = page.get_by_test_id("save-status")
    await expect(status).to_have_text("This file is not a PNG or JPEG image. Choose another file.")
    await expect(page.locator(".previews img.logo").first).to_be_hidden()
    # A file named like an image that is not one: no broken picture, and the refusal in words.
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not an image at all")
    await page.set_input_files("input[name=logo]", str(fake))
    await expect(page.locator(".previews img.logo").first).to_be_hidden()
    await page.click("#branding-form button[type=submit]")
    await expect(status).to_have_attribute("data-state", "error")
    await expect(status).to_have_text("The logo must be a PNG or JPEG image, at least 16 pixels a side.")
    await expect(sync).to_be_hidden()

    logo = tmp_path / "logo.png"
    logo.write_bytes(png((20, 90, 200)))
    await page.set_input_files("input[name=logo]", str(logo))
    await page.click("#branding-form button[type=submit]")
    await expect(status).to_have_attribute("data-state", "saved")
    await expect(sync).to_be_visible()
    await expect(sync).to_contain_text("No cards installed yet")
    await expect(sync.locator("progress")).to_be_hidden()
    assert (await tenant_program(stack, tokens, business))["branding"]["images"].get("logo")

    await page.reload()
    await page.get_by_test_id("remove-logo").click()
    await asks(page, "Remove the logo?")
    await answer(page, yes=True)
    await expect(page.get_by_test_id("flash-notice")).to_have_text("Logo removed.")
    await expect(page.get_by_test_id("remove-logo")).to_have_count(0)
    assert "logo" not in (await tenant_program(stack, tokens, business))["branding"]["images"]


# 4. Test mode and the program -----------------------------------------------------------------------


async def test_in_test_mode_the_program_says_it_is_live_and_every_change_asks_first(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "sandbox")
    page = await owner_page(browser, site, business)
    await page.get_by_test_id("mode-switch").click()
    await expect(page.locator("body.test-mode")).to_be_visible()
    await page.goto(f"{site}/app/program")
    await expect(page.get_by_test_id("live-notice")).to_contain_text("This is your live program.")

    await page.fill("input[name=program_name]", "Trying things")
    await page.click("#branding-form button[type=submit]")
    await asks(page, "the program is shared with live")
    await shot(page, "program-test-mode")
    await answer(page, yes=False)
    assert (await tenant_program(stack, tokens, business))["wording"]["program_name"] != "Trying things"
    await expect(page.get_by_test_id("save-status")).not_to_have_attribute("data-state", "saved")

    # The BFF holds the line too: a save that did not confirm is refused, not applied.
    refused = await page.evaluate(
        """async () => {
            const csrf = document.cookie.match(/nj_csrf=([^;]+)/)[1];
            const r = await fetch("/bff/program/branding", {method: "PATCH", headers: {
              "Content-Type": "application/json", "X-CSRF-Token": decodeURIComponent(csrf)},
              body: JSON.stringify({background_color: "#000000", foreground_color: "#ffffff",
                label_color: "#ffffff", program_name: "Sneaky", balance_label: "Points"})});
            return [r.status, (await r.json()).code];
        }"""
    )
    assert refused == [409, "live_change_unconfirmed"]

    await page.click("#branding-form button[type=submit]")
    await asks(page, "the program is shared with live")
    await answer(page, yes=True)
    await expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "saved")
    assert (await tenant_program(stack, tokens, business))["wording"]["program_name"] == "Trying things"

    await page.goto(f"{site}/app/rewards")
    await expect(page.get_by_test_id("live-notice")).to_be_visible()
    await page.fill("#new-name", "Test muffin")
    await page.fill("#new-cost", "3")
    await page.get_by_test_id("create-form").locator("button").click()
    await asks(page, "the program is shared with live")
    await answer(page, yes=False)
    assert (await tenant_program(stack, tokens, business))["rewards"] == []

    # In live mode the page needs no such warning.
    await page.get_by_test_id("mode-switch").click()
    await page.goto(f"{site}/app/program")
    await expect(page.get_by_test_id("live-notice")).to_have_count(0)


# 5. Arabic ------------------------------------------------------------------------------------------

# Names that stay as they are in Arabic text: products, formats, protocol words, currency codes.
KEPT = {"Apple", "Wallet", "Google", "API", "Webhook", "Webhooks", "HTTP", "PNG", "JPEG", "CSV", "EUR", "ms"}

LATIN_WORDS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest('code, pre, script, style, svg, [translate="no"], .previews')) continue;
    if (el.closest("[lang]") !== document.documentElement) continue;  // the other language's own name
    if (!el.closest("dialog") && !el.checkVisibility()) continue;
    for (const w of node.textContent.match(/[A-Za-z]{2,}/g) || []) found.push(w);
  }
  for (const el of document.querySelectorAll("[title], [aria-label], option")) {
    const text = (el.getAttribute("title") || "") + " " + (el.getAttribute("aria-label") || "")
      + " " + (el.tagName === "OPTION" ? el.textContent : "");
    for (const w of text.match(/[A-Za-z]{2,}/g) || []) found.push(w);
  }
  return found;
}"""


async def test_every_dashboard_page_in_arabic_has_no_english_left(
    stack: Stack, site: str, browser: Browser, partner_endpoint: Any, shot: Any, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "arabic")
    await add_staff(stack.tenant_db, business, "huda@arabic.test", "manager")
    async with internal(stack, tokens, business, "ledger") as ledger:
        member = (
            await ledger.post("/internal/v1/members", json={"name": "سلمى", "email": "salma@arabic.test"})
        ).json()
        await eventually(  # the program reaches the ledger through an event: the first earn may wait
            lambda: ledger.post(
                f"/internal/v1/members/{member['id']}/earn",
                json={"points": 12, "idempotency_key": uuid.uuid4().hex},
            ),
            lambda r: r.status_code == 200,
            timeout=20,
        )
    page = await owner_page(
        browser, site, business, locale="ar", extra_http_headers={"Accept-Language": "ar"}
    )
    await page.goto(f"{site}/app/rewards")
    await page.fill("#new-name", "قهوة")
    await page.fill("#new-cost", "5")
    await page.get_by_test_id("create-form").locator("button").click()
    await expect(page.get_by_test_id("flash-notice")).to_have_text("تمت الإضافة.")
    await page.goto(f"{site}/app/locations")
    await page.fill("#new-name", "الفرع الرئيسي")
    await page.get_by_test_id("create-form").locator("button").click()
    await page.goto(f"{site}/app/developers")
    await page.get_by_test_id("key-name").fill("نقطة البيع")
    await page.get_by_test_id("create-key").click()
    await page.get_by_test_id("webhook-url").fill(partner_endpoint.url)
    await page.get_by_test_id("add-webhook").click()

    await page.goto(f"{site}/app/staff")
    await expect(
        page.get_by_test_id("row").filter(has_text="huda@arabic.test").locator("td").nth(2)
    ).to_have_text("مدير")
    await expect(
        page.get_by_test_id("row").filter(has_text="huda@arabic.test").locator("td").nth(3)
    ).to_have_text("لا")
    await expect(page.get_by_test_id("mode-switch")).to_have_attribute("title", re.compile("التبديل إلى"))
    await shot(page, "staff-arabic")
    # What people typed stays as typed: the staff's emails and names (in the role selects' labels).
    typed = {"owner", "huda", "salma", "arabic", "test", "Manager"}
    pages = ("/app", "/app/members", f"/app/members/{member['id']}", "/app/scan")
    for path in ("/app/program", "/app/rewards", "/app/locations", "/app/staff", "/app/developers", *pages):
        await page.goto(f"{site}{path}")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        english = [w for w in await page.evaluate(LATIN_WORDS) if w not in KEPT | typed]
        assert english == [], (path, english)
    await page.goto(f"{site}/app/rewards")
    await page.get_by_test_id("row").get_by_test_id("archive").click()
    await expect(page.get_by_role("dialog")).to_contain_text("أرشفة هذه المكافأة؟")
    english = [w for w in await page.evaluate(LATIN_WORDS) if w not in KEPT]
    assert english == [], english


# 6. Accessibility -----------------------------------------------------------------------------------

CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = el, back = "rgba(0, 0, 0, 0)";
  while (bg && (back = getComputedStyle(bg).backgroundColor) === "rgba(0, 0, 0, 0)") bg = bg.parentElement;
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(bg ? back : "rgb(255,255,255)"));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


async def test_contrast_and_accessible_names_on_the_owner_pages(
    stack: Stack, site: str, browser: Browser
) -> None:
    business = await create_business(stack.tenant_db, "access")
    await add_staff(stack.tenant_db, business, "rana@access.test", "staff")
    page = await owner_page(browser, site, business)
    for path in ("/app/program", "/app/rewards", "/app/locations", "/app/staff", "/app/developers"):
        await page.goto(f"{site}{path}")
        current = page.locator(".nav a[aria-current=page]")
        await expect(current).to_have_count(1)  # every page marks itself in the navigation
        assert await current.evaluate(CONTRAST) >= 4.5, path

    await page.goto(f"{site}/app/staff")
    # Each row's role select is named for the person it changes.
    await expect(page.get_by_role("combobox", name="Role of Staff")).to_have_value("staff")
    disable = page.get_by_test_id("row").filter(has_text="rana@access.test").get_by_test_id("disable")
    assert await disable.evaluate(CONTRAST) >= 4.5

    await page.goto(f"{site}/app/scan")
    # (the keypad waits in the hidden member panel until a card is scanned)
    await expect(page.get_by_role("button", name="Delete last digit", include_hidden=True)).to_have_count(1)
