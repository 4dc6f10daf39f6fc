"""The counter as a barista uses it: a keyboard-wedge scanner on a landscape tablet (1024 x 768) and a
phone (390 x 844), in Debian's Chromium against the real tenant, ledger and gateway."""

from __future__ import annotations

import re
import statistics
import sys
import time
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

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


class Counter:
    """A business with a barista and a manager, its program as the ledger sees it, and members."""

    def __init__(self, stack: Stack, business: Business, tokens: TestTokens) -> None:
        self.stack = stack
        self.business = business
        self.internal = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))

    async def owner_token(self) -> str:
        async with httpx.AsyncClient(base_url=self.stack.tenant_url) as tenant:
            body = {"tenant": self.business.slug, "email": self.business.owner_email, "password": PASSWORD}
            return str((await tenant.post("/auth/login", json=body)).json()["access_token"])

    async def set_program(self, program: dict[str, Any], seen: dict[str, Any], currency: str = "") -> None:
        """Change the program at the tenant service and wait until the ledger's card answer shows it
        (`seen`: fields of that answer)."""
        headers = {"Authorization": f"Bearer {await self.owner_token()}"}
        async with httpx.AsyncClient(base_url=self.stack.tenant_url, headers=headers) as tenant:
            if currency:
                moved = await tenant.patch("/internal/v1/tenant", json={"currency": currency})
                assert moved.status_code == 200, moved.text
            changed = await tenant.patch("/internal/v1/program", json=program)
            assert changed.status_code == 200, changed.text
        probe = (await self.join("Probe"))["card_token"]
        async with httpx.AsyncClient(base_url=self.stack.ledger_url, headers=headers) as ledger:
            await eventually(
                lambda: ledger.get(f"/staff/v1/cards/{probe}"),
                lambda r: r.status_code == 200 and all(r.json().get(k) == v for k, v in seen.items()),
                timeout=20,
            )

    async def join(self, name: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.stack.ledger_url, headers=self.internal) as ledger:
            answer = await eventually(
                lambda: ledger.post("/internal/v1/members", json={"name": name}),
                lambda r: r.status_code == 201,
                timeout=20,
            )
        return dict(answer.json())

    async def transactions(self, member_id: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.stack.ledger_url, headers=self.internal) as ledger:
            return list((await ledger.get(f"/internal/v1/members/{member_id}/transactions")).json()["data"])


async def open_counter(stack: Stack, tokens: TestTokens, slug: str) -> Counter:
    business = await create_business(stack.tenant_db, slug)
    await add_staff(stack.tenant_db, business, f"barista@{slug}.test", "staff")
    await add_staff(stack.tenant_db, business, f"manager@{slug}.test", "manager")
    return Counter(stack, business, tokens)


async def barista(browser: Browser, site: str, slug: str, viewport: dict[str, int]) -> Page:
    page = await (await browser.new_context(viewport=viewport)).new_page()
    await page.goto(f"{site}/app/login")
    await page.fill("input[name=tenant]", slug)
    await page.fill("input[name=email]", f"barista@{slug}.test")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("body[data-scanner-ready]")).to_have_count(1)
    return page


async def wedge(page: Page, code: str) -> None:
    """A keyboard-wedge scanner: types into whatever has the focus, then Enter."""
    await page.keyboard.type(code, delay=5)
    await page.keyboard.press("Enter")


async def keypad(page: Page, digits: str) -> None:
    for key in digits:
        await page.click(f"#keypad [data-key='{key}']")


async def test_after_every_action_and_error_the_next_wedge_scan_looks_up_the_next_customer(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens
) -> None:
    counter = await open_counter(stack, tokens, "espresso")
    ada, bea = await counter.join("Ada"), await counter.join("Bea")
    page = await barista(browser, site, "espresso", TABLET)
    code = page.get_by_test_id("card-code")

    await wedge(page, ada["card_token"])
    await expect(page.locator("#member-name")).to_have_text("Ada")
    await page.get_by_test_id("earn").click()  # nothing entered: an error
    await expect(page.get_by_test_id("feedback")).to_have_class(re.compile("bad"))
    await expect(code).to_be_focused()
    await expect(page.get_by_test_id("feedback")).to_have_text("Enter the amount first")
    await keypad(page, "12")
    await expect(code).to_be_focused()  # the keypad does not take the focus either
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_contain_text("Earned 12")
    await expect(code).to_be_focused()

    # The next customer's scan while Ada's result shows: a lookup, not a second Earn.
    await wedge(page, bea["card_token"])
    await expect(page.locator("#member-name")).to_have_text("Bea")
    await expect(page.get_by_test_id("balance")).to_have_text("0")
    await keypad(page, "3")
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_contain_text("Earned 3")
    await page.get_by_test_id("undo").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Undone")
    await expect(code).to_be_focused()

    # Even with the focus moved off the field (a tap on the page), the scan lands in it.
    await page.get_by_test_id("balance").click()
    await page.locator("body").focus()
    await wedge(page, ada["card_token"])
    await expect(page.locator("#member-name")).to_have_text("Ada")
    await expect(page.get_by_test_id("balance")).to_have_text("12")
    assert [t["points"] for t in await counter.transactions(ada["id"])] == [12]
    assert [t["kind"] for t in await counter.transactions(bea["id"])] == ["reverse", "earn"]


async def _inside(page: Page, viewport: dict[str, int], test_ids: list[str]) -> dict[str, Any]:
    boxes = {}
    for test_id in test_ids:
        box = await page.locator(f"#{test_id}, [data-testid={test_id}]").first.bounding_box()
        assert box is not None, test_id
        assert box["x"] >= 0, (test_id, box)
        assert box["y"] >= 0, (test_id, box)
        assert box["x"] + box["width"] <= viewport["width"], (test_id, box, viewport)
        assert box["y"] + box["height"] <= viewport["height"], (test_id, box, viewport)
        boxes[test_id] = box
    return boxes


@pytest.mark.parametrize(("viewport", "name"), [(TABLET, "scanner"), (PHONE, "scanner-phone")])
async def test_member_keypad_earn_and_result_fit_one_screen(
    stack: Stack,
    site: str,
    browser: Browser,
    tokens: TestTokens,
    shot: Any,
    viewport: dict[str, int],
    name: str,
) -> None:
    slug = f"fit{viewport['width']}"
    counter = await open_counter(stack, tokens, slug)
    async with httpx.AsyncClient(
        base_url=stack.tenant_url, headers={"Authorization": f"Bearer {await counter.owner_token()}"}
    ) as tenant:
        for reward, cost in (("Espresso", 10), ("Croissant", 25), ("Lunch", 90)):
            await tenant.post("/internal/v1/rewards", json={"name": reward, "cost": cost})
    seen = {"balance_label": "Beans", "currency": "AED"}
    await counter.set_program({"wording": {"balance_label": "Beans"}}, seen, currency="AED")
    member = await counter.join("Layla Haddad")
    page = await barista(browser, site, slug, viewport)
    await wedge(page, member["card_token"])
    await expect(page.locator("#member-name")).to_have_text("Layla Haddad")
    await keypad(page, "42")
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_contain_text("Earned 42")
    await expect(page.get_by_test_id("rewards")).to_contain_text("Espresso")
    boxes = await _inside(page, viewport, ["member-name", "balance", "keypad", "earn", "feedback", "undo"])
    if viewport is TABLET:  # side by side in landscape
        assert boxes["keypad"]["x"] >= boxes["member-name"]["x"] + boxes["member-name"]["width"]
    assert await page.evaluate("document.documentElement.scrollHeight") <= viewport["height"]
    await shot(page, name)


async def test_the_printed_code_is_accepted_typed_carelessly_and_a_refused_code_stays(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens
) -> None:
    counter = await open_counter(stack, tokens, "mocha")
    member = await counter.join("Omar")
    printed = member["card_token"][-8:]  # what the pass prints under the QR
    typed = printed.lower().replace("o", "0").replace("i", "1").replace("b", "8")
    page = await barista(browser, site, "mocha", PHONE)
    code = page.get_by_test_id("card-code")

    await wedge(page, "ZZZZ9999")
    await expect(page.get_by_test_id("feedback")).to_have_text("No such card: check the code")
    await expect(code).to_have_value("ZZZZ9999")
    await expect(code).to_be_focused()
    await code.fill(typed[:4] + " " + typed[4:])
    await page.keyboard.press("Enter")
    await expect(page.locator("#member-name")).to_have_text("Omar")
    await expect(code).to_have_value("")
    await keypad(page, "7")
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Earned 7 Points")


async def test_amounts_show_the_currency_results_the_unit_and_a_stamp_card_enters_stamps(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens
) -> None:
    counter = await open_counter(stack, tokens, "beanery")
    seen = {"balance_label": "Beans", "currency": "AED"}
    await counter.set_program({"wording": {"balance_label": "Beans"}}, seen, currency="AED")
    member = await counter.join("Sara")
    page = await barista(browser, site, "beanery", TABLET)
    await wedge(page, member["card_token"])
    await expect(page.get_by_test_id("amount-unit")).to_have_text("AED")
    await expect(page.locator("#balance-label")).to_have_text("Beans")
    await keypad(page, "9.5")
    await expect(page.get_by_test_id("amount")).to_have_text("9.5")
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Earned 9 Beans")

    stamps = {"type": "stamps", "wording": {"balance_label": "Stamps"}}
    await counter.set_program(stamps, {"program_type": "stamps", "balance_label": "Stamps"})
    await page.reload()
    await wedge(page, member["card_token"])
    await expect(page.get_by_test_id("amount-unit")).to_have_text("Stamps")
    await expect(page.locator("#keypad [data-key='.']")).to_be_hidden()
    await keypad(page, "2")
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Earned 2 Stamps")
    earned = (await counter.transactions(member["id"]))[0]
    assert (earned["points"], earned["amount"]) == (2, None)  # stamps, not an amount


async def test_an_earn_over_the_maximum_needs_a_manager_who_signs_in_on_the_scanner(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    counter = await open_counter(stack, tokens, "latte")
    capped = {"earn_rule": {"max_per_transaction": 50}, "wording": {"balance_label": "Beans"}}
    await counter.set_program(capped, {"max_per_transaction": 50, "balance_label": "Beans"})
    member = await counter.join("Hana")
    page = await barista(browser, site, "latte", TABLET)
    await wedge(page, member["card_token"])
    await keypad(page, "1000000")
    await page.get_by_test_id("earn").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("More than 50 Beans in one go needs a manager")
    await expect(page.get_by_test_id("approval")).to_be_visible()
    await expect(page.get_by_test_id("card-code")).to_be_focused()
    assert await counter.transactions(member["id"]) == []

    attempts = [
        ("manager@latte.test", "wrong password", "The manager's email or password is wrong"),
        ("barista@latte.test", PASSWORD, "Only a manager or owner can approve"),
    ]
    for email, password, said in attempts:
        await page.get_by_test_id("approver-email").fill(email)
        await page.get_by_test_id("approver-password").fill(password)
        await page.get_by_test_id("approve").click()
        await expect(page.get_by_test_id("feedback")).to_have_text(said)
        assert await counter.transactions(member["id"]) == []

    await page.get_by_test_id("approver-email").fill("manager@latte.test")
    await page.get_by_test_id("approver-password").fill(PASSWORD)
    await page.get_by_test_id("approve").click()
    await expect(page.get_by_test_id("feedback")).to_have_text("Earned 1000000 Beans · Approved by a manager")
    await expect(page.get_by_test_id("approval")).to_be_hidden()
    await expect(page.get_by_test_id("card-code")).to_be_focused()
    [earned] = await counter.transactions(member["id"])
    assert earned["points"] == 1_000_000
    assert str(earned["approved_by"]).startswith("stf_")


async def test_twenty_customers_in_a_row_by_wedge_each_earned_once(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens
) -> None:
    counter = await open_counter(stack, tokens, "rush")
    members = [await counter.join(f"Customer {n:02}") for n in range(20)]
    page = await barista(browser, site, "rush", TABLET)
    timings, from_scan = [], []
    for n, member in enumerate(members):
        started = time.perf_counter()
        # The simulated scanner types at 5 ms a key (a real one sends its whole code in a few ms):
        # the figure "from the scan" starts when the code is in, at its Enter.
        await page.keyboard.type(member["card_token"], delay=5)
        scanned = time.perf_counter()
        await page.keyboard.press("Enter")
        await expect(page.locator("#member-name")).to_have_text(f"Customer {n:02}")
        await keypad(page, "5")
        await page.get_by_test_id("earn").click()
        await expect(page.get_by_test_id("feedback")).to_contain_text("Earned 5")
        done = time.perf_counter()
        timings.append(done - started)
        from_scan.append(done - scanned)
    for member in members:
        assert [t["points"] for t in await counter.transactions(member["id"])] == [5], member["id"]
    print(
        f"\ncounter: 20 customers, median scan-to-confirmation {statistics.median(from_scan) * 1000:.0f} ms "
        f"(min {min(from_scan) * 1000:.0f}, max {max(from_scan) * 1000:.0f}) from the scanner's Enter, "
        f"{statistics.median(timings) * 1000:.0f} ms from its first key"
    )
