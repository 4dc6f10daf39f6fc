"""axe-core (axe-playwright-python, the engine bundled in the package: nothing fetched) over every
dashboard page and the public pages, in English and Arabic, at laptop (1280x800) and phone (390x844)
widths. Any serious or critical violation fails the test."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from nujoomy_kit.ids import decode_id
from nujoomy_kit.member_links import sign_member_link
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
from web_stack import PASSWORD, Stack, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})
BLOCKING = ("serious", "critical")


async def _context(browser: Browser, site: str, lang: str, viewport: dict[str, int]) -> BrowserContext:
    context = await browser.new_context(viewport=viewport, locale="ar" if lang == "ar" else "en-GB")
    await context.add_cookies([{"name": "nj_lang", "value": lang, "url": site}])
    return context


async def _sign_in(page: Page, site: str, slug: str, email: str) -> None:
    await page.goto(f"{site}/app/login")
    await page.fill("input[name=tenant]", slug)
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id("overview")).to_be_visible()


async def _violations(axe: Axe, page: Page, where: str) -> list[str]:
    results = await axe.run(page)
    found = []
    for v in results.response["violations"]:
        if v.get("impact") not in BLOCKING:
            continue
        targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
        found.append(f"{where}: {v['id']} ({v['impact']}) {v['help']} at {targets}")
    return found


async def _delivery_path(page: Page, site: str, endpoint_url: str) -> str:
    """A webhook delivery (test mode: a test endpoint may live on loopback) and its page's path."""
    await page.get_by_test_id("mode-switch").click()
    await expect(page.locator("body.test-mode")).to_be_visible()
    await page.goto(f"{site}/app/developers")
    await page.get_by_test_id("webhook-url").fill(endpoint_url)
    await page.get_by_test_id("add-webhook").click()
    await page.get_by_test_id("webhook-test").click()

    async def link() -> str | None:
        await page.goto(f"{site}/app/developers")
        links = page.get_by_test_id("delivery-link")
        return await links.first.get_attribute("href") if await links.count() else None

    found = await eventually(link, bool, timeout=20)
    assert found
    return found


async def test_every_page_has_no_serious_or_critical_accessibility_violation(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, partner_endpoint: Any
) -> None:
    business = await create_business(stack.tenant_db, "opticians")
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        member = (
            await ledger.post(
                "/internal/v1/members",
                json={"name": "Hala", "email": "hala@example.com", "phone": "+971500000009"},
            )
        ).json()
        await eventually(
            lambda: ledger.post(
                f"/internal/v1/members/{member['id']}/earn",
                json={"points": 12, "idempotency_key": uuid.uuid4().hex},
            ),
            lambda r: r.status_code == 200,
            timeout=20,
        )
    link = sign_member_link(
        tokens.member_link_private_pem,
        "preferences",
        tenant_id=business.tenant_id,
        member_id=decode_id("mbr", member["id"]),
        mode="live",
    )
    setup = await (await _context(browser, site, "en", VIEWPORTS[0])).new_page()
    await _sign_in(setup, site, "opticians", business.owner_email)
    delivery = await _delivery_path(setup, site, partner_endpoint.url)

    dashboard = [
        "/app",
        "/app/program",
        "/app/rewards",
        "/app/locations",
        "/app/staff",
        "/app/members",
        f"/app/members/{member['id']}",
        "/app/developers",
        delivery,
        "/app/scan",
    ]
    public = ["/join/opticians", f"/join/opticians/preferences?t={link}", "/app/password"]
    axe = Axe()
    found: list[str] = []
    for viewport in VIEWPORTS:
        for lang in ("en", "ar"):
            context = await _context(browser, site, lang, viewport)
            page = await context.new_page()
            size = f"{viewport['width']}x{viewport['height']}"
            for path in public:
                await page.goto(f"{site}{path}")
                found += await _violations(axe, page, f"{lang} {size} {path.split('?')[0]}")
            await page.goto(f"{site}/app/login")
            found += await _violations(axe, page, f"{lang} {size} /app/login")
            await _sign_in(page, site, "opticians", business.owner_email)
            for path in dashboard:
                mode = "test" if path == delivery else "live"
                await context.add_cookies([{"name": "nj_mode", "value": mode, "url": site}])
                await page.goto(f"{site}{path}")
                await page.wait_for_load_state("networkidle")
                found += await _violations(axe, page, f"{lang} {size} {path}")
            await context.close()
    assert not found, "\n".join(found)
