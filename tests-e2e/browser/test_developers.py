"""The developer and branding buttons, in Debian's Chromium against the real services: API key roll and
revoke (checked through the partner API), webhook secret reveal and rotate, the delivery log with
request and response, replay, the test event, and the logo upload in the branding editor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_dashboard import sign_in  # noqa: E402
from web_stack import Stack, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


async def _partner_status(site: str, secret: str) -> int:
    async with httpx.AsyncClient(base_url=site) as client:
        answer = await client.get("/v1/program", headers={"Authorization": f"Bearer {secret}"})
        return answer.status_code


async def _notice(page: Page, text: str) -> None:
    """Each button posts, then the page it redirects to says what happened: wait for that page."""
    await expect(page.get_by_test_id("flash-notice")).to_contain_text(text)


async def _shown_secret(page: Page) -> str:
    return await page.get_by_test_id("new-secret").locator("code").inner_text()


async def _developers_in_test_mode(browser: Browser, site: str, slug: str, email: str) -> Page:
    page = await sign_in(browser, site, slug, email)
    await page.get_by_test_id("mode-switch").click()
    await expect(page.locator("body.test-mode")).to_be_visible()
    await page.goto(f"{site}/app/developers")
    return page


async def test_a_rolled_key_keeps_working_for_the_grace_period_and_a_revoked_key_gets_401(
    stack: Stack, site: str, browser: Browser
) -> None:
    business = await create_business(stack.tenant_db, "tailor")
    page = await _developers_in_test_mode(browser, site, "tailor", business.owner_email)
    await page.get_by_test_id("key-name").fill("Till")
    await page.get_by_test_id("create-key").click()
    await _notice(page, "API key created.")
    first = await _shown_secret(page)
    first_id = await page.get_by_test_id("key-row").first.get_attribute("data-key-id")
    assert await _partner_status(site, first) == 200

    await page.locator(f"[data-key-id='{first_id}']").get_by_test_id("key-roll").click()
    await _notice(page, "API key rolled")
    second = await _shown_secret(page)
    assert second.startswith("nj_test_")
    assert second != first
    rows = page.get_by_test_id("key-row")
    await expect(rows).to_have_count(2)
    new_id = next(
        k for k in [await r.get_attribute("data-key-id") for r in await rows.all()] if k != first_id
    )
    # The old key now carries an expiry (the grace period) and still answers; so does the new one.
    await expect(page.locator(f"[data-key-id='{first_id}']").get_by_test_id("key-expires")).not_to_have_text(
        "—"
    )
    await expect(page.locator(f"[data-key-id='{new_id}']").get_by_test_id("key-expires")).to_have_text("—")
    assert await _partner_status(site, first) == 200
    assert await _partner_status(site, second) == 200

    await page.locator(f"[data-key-id='{new_id}']").get_by_test_id("key-revoke").click()
    await page.get_by_test_id("confirm-yes").click()
    await expect(page.locator(f"[data-key-id='{new_id}']")).to_contain_text("revoked")
    # Revocation reaches every replica's key cache through Redis; this one answers 401 at once or soon.
    await eventually(lambda: _partner_status(site, second), lambda status: status == 401, timeout=10)
    assert await _partner_status(site, first) == 200, "revoking the new key leaves the rolled one alone"


def _verify(secret: str, headers: dict[str, str], body: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    lowered = {k.lower(): v for k, v in headers.items()}
    content = f"{lowered['webhook-id']}.{lowered['webhook-timestamp']}.{body}".encode()
    expected = "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return expected in lowered["webhook-signature"].split(" ")


async def _delivery_status(page: Page, site: str, path: str) -> str:
    await page.goto(f"{site}{path}")
    return await page.get_by_test_id("delivery-status").get_attribute("data-status") or ""


async def test_webhook_secret_reveal_rotate_test_event_delivery_log_and_replay(
    stack: Stack, site: str, browser: Browser, partner_endpoint: Any, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "florist")
    page = await _developers_in_test_mode(browser, site, "florist", business.owner_email)
    await page.get_by_test_id("webhook-url").fill(partner_endpoint.url)
    await page.get_by_test_id("add-webhook").click()
    await _notice(page, "Webhook endpoint added.")
    created = await _shown_secret(page)

    await page.get_by_test_id("webhook-reveal").click()
    await _notice(page, "The current signing secret:")
    assert await _shown_secret(page) == created, "reveal shows the endpoint's current secret"
    await page.get_by_test_id("webhook-rotate").click()
    await page.get_by_test_id("confirm-yes").click()
    await _notice(page, "Signing secret rotated.")
    rotated = await _shown_secret(page)
    assert rotated.startswith("whsec_")
    assert rotated != created
    await page.get_by_test_id("webhook-reveal").click()
    await _notice(page, "The current signing secret:")
    assert await _shown_secret(page) == rotated

    await page.get_by_test_id("webhook-test").click()
    await eventually(lambda: _link_count(page, site), lambda n: n == 1, timeout=20)
    detail = await page.get_by_test_id("delivery-link").first.get_attribute("href")
    assert detail
    await eventually(lambda: _delivery_status(page, site, detail), lambda s: s == "succeeded", timeout=20)
    # The request as sent (the event body) and the partner's answer per attempt.
    request_body = json.loads(await page.get_by_test_id("delivery-request").inner_text())
    assert request_body["type"] == "test.ping"
    await expect(page.get_by_test_id("delivery-attempts").locator("td.code")).to_have_text(["200"])
    await expect(page.get_by_test_id("delivery-response")).to_have_text('{"received": true}')
    await expect(page.get_by_test_id("delivery-attempt-count")).to_have_text("1")
    assert len(partner_endpoint.received) == 1
    received = partner_endpoint.received[0]
    assert json.loads(received["body"]) == request_body
    # Mid-rotation the delivery is signed with both secrets, so the partner can switch at leisure.
    assert _verify(rotated, received["headers"], received["body"])
    assert _verify(created, received["headers"], received["body"])
    await shot(page, "webhook-delivery")

    await page.get_by_test_id("delivery-replay").click()
    await eventually(lambda: _attempts(page, site, detail), lambda n: n == "2", timeout=20)
    await expect(page.get_by_test_id("delivery-attempts").locator("td.code")).to_have_count(2)
    assert len(partner_endpoint.received) == 2
    again = partner_endpoint.received[1]
    assert again["body"] == received["body"]
    assert again["headers"]["webhook-id"] == received["headers"]["webhook-id"], "same id: the partner dedupes"


async def _link_count(page: Page, site: str) -> int:
    await page.goto(f"{site}/app/developers")
    return await page.get_by_test_id("delivery-link").count()


async def _attempts(page: Page, site: str, path: str) -> str:
    await page.goto(f"{site}{path}")
    return await page.get_by_test_id("delivery-attempt-count").inner_text()


def _png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 320), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_owner_uploads_a_logo_sees_it_in_the_preview_and_the_saved_program_carries_it(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, tmp_path: Path
) -> None:
    business = await create_business(stack.tenant_db, "perfumery")
    page = await sign_in(browser, site, "perfumery", business.owner_email)
    await page.goto(f"{site}/app/program")
    logos = page.locator(".previews img.logo")
    await expect(logos.first).to_be_hidden()
    # A file that is not an image is refused, and the page says so instead of "saved".
    bogus = tmp_path / "notes.png"
    bogus.write_bytes(b"not an image at all")
    await page.set_input_files("input[name=logo]", str(bogus))
    await page.click("#branding-form button[type=submit]")
    await expect(page.locator("#save-status")).to_have_attribute("data-state", "error")

    logo = tmp_path / "logo.png"
    logo.write_bytes(_png((200, 30, 90)))
    await page.set_input_files("input[name=logo]", str(logo))
    for i in range(2):  # Apple and Google previews both show the chosen file before anything is saved
        await expect(logos.nth(i)).to_be_visible()
        assert (await logos.nth(i).get_attribute("src") or "").startswith("blob:")
    await page.click("#branding-form button[type=submit]")
    await expect(page.locator("#save-status")).to_have_attribute("data-state", "saved")

    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="tenant"))
    async with httpx.AsyncClient(base_url=stack.tenant_url, headers=headers) as tenant:
        program = (await tenant.get("/internal/v1/program")).json()
    images = program["branding"]["images"]
    assert images.get("logo"), images

    await page.reload()
    src = await logos.first.get_attribute("src")
    assert src
    assert src.startswith("/join-assets/")
    await expect(logos.first).to_be_visible()
    loaded = await logos.first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert loaded, "the saved logo is served back to the preview"
    # The public join page is branded with it too.
    await page.goto(f"{site}/join/perfumery")
    assert await page.locator(".join-card img.logo").evaluate("img => img.complete && img.naturalWidth > 0")
