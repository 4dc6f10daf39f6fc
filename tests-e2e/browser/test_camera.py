"""The scanner's camera path: Chromium's fake capture device plays a video of the card's QR; the page
decodes it (BarcodeDetector if this Chromium has one, else the vendored jsQR) and opens the member."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import qrcode
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import async_playwright, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
from web_stack import PASSWORD, Stack, add_staff, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def qr_video(text: str, path: Path, size: int = 480) -> Path:
    """A Y4M clip (the format Chromium's fake capture reads) of a black-on-white QR code."""
    image = qrcode.make(text, box_size=10, border=4).get_image().convert("L").resize((size, size))
    luma = image.tobytes()
    chroma = bytes([128]) * ((size // 2) * (size // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


async def test_staff_scans_a_card_with_the_camera(
    stack: Stack, site: str, tokens: TestTokens, tmp_path: Path, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "teahouse")
    await add_staff(stack.tenant_db, business, "server@teahouse.test", "staff")
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        await eventually(lambda: ledger.get("/internal/v1/rewards"), lambda r: r.status_code == 200)
        member = (
            await ledger.post("/internal/v1/members", json={"name": "Mariam", "email": "m@example.com"})
        ).json()
    video = qr_video(member["card_token"], tmp_path / "card.y4m")
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            context = await browser.new_context(viewport={"width": 420, "height": 900})
            await context.grant_permissions(["camera"], origin=site)
            page = await context.new_page()
            await page.goto(f"{site}/app/login")
            await page.fill("input[name=tenant]", "teahouse")
            await page.fill("input[name=email]", "server@teahouse.test")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await expect(page.locator("body[data-scanner-ready]")).to_have_count(1)
            await page.click("#camera-btn")
            await expect(page.get_by_test_id("member-panel")).to_be_visible(timeout=15000)
            await expect(page.locator("#member-name")).to_have_text("Mariam")
            decoder = await page.locator("#camera").get_attribute("data-decoder")
            assert decoder in ("BarcodeDetector", "jsQR")
            await shot(page, "scanner-camera")
        finally:
            await browser.close()
