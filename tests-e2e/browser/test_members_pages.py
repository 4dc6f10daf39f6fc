"""The members pages and the overview as an owner uses them on a 1280x800 laptop: the member detail
in the business's time zone and words, name search with pages both ways, CSV exports of 100,000
members streamed end to end, and the overview's charts (axes, values on focus, legend, period,
reversals netted out)."""

from __future__ import annotations

import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from nujoomy_kit.db import plain_url
from nujoomy_messaging import Topology
from nujoomy_testing import eventually
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import Browser, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import Mail, gateway_site  # noqa: E402
from test_dashboard import sign_in  # noqa: E402
from web_stack import PASSWORD, Business, Stack, create_business  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LAPTOP = {"width": 1280, "height": 800}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@pytest.fixture
async def notified_site(
    stack: Stack,
    mail: Mail,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
) -> AsyncIterator[str]:
    """The gateway with notification's API behind it too (the member page's message history)."""
    async with gateway_site(
        stack, make_db, amqp_url, redis_url, topology, redis_prefix, tokens, notification_url=mail.api_url
    ) as url:
        yield url


async def _sql(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(plain_url(url))
    try:
        return await conn.execute(sql, *args)
    finally:
        await conn.close()


async def _ledger(stack: Stack, tokens: TestTokens, business: Business) -> httpx.AsyncClient:
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    return httpx.AsyncClient(base_url=stack.ledger_url, headers=headers, timeout=30)


async def _earn(ledger: httpx.AsyncClient, member: str, points: int) -> dict[str, Any]:
    # the program reaches the ledger through tenant.program.updated: the first earn may have to wait
    answer = await eventually(
        lambda: ledger.post(
            f"/internal/v1/members/{member}/earn",
            json={"points": points, "idempotency_key": uuid.uuid4().hex},
        ),
        lambda r: r.status_code == 200,
        timeout=20,
    )
    return answer.json()["transaction"]  # type: ignore[no-any-return]


def _local(iso: str, zone: str) -> str:
    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone))
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}"


async def test_member_detail_shows_local_dates_words_headers_reasons_and_the_whole_email(
    stack: Stack, notified_site: str, browser: Browser, tokens: TestTokens, mail: Mail, shot: Any
) -> None:
    site = notified_site
    business = await create_business(stack.tenant_db, "perfumery")
    dubai = "UPDATE tenants SET timezone = 'Asia/Dubai' WHERE id = $1"
    await _sql(stack.tenant_db, dubai, business.tenant_id)
    email = "layla.abdulrahman.alhashimi.loyalty@perfumery-of-the-old-souk.example"
    async with httpx.AsyncClient(base_url=stack.tenant_url) as tenant:
        owner = {"tenant": business.slug, "email": business.owner_email, "password": PASSWORD}
        signed = (await tenant.post("/auth/login", json=owner)).json()
        headers = {"Authorization": f"Bearer {signed['access_token']}"}
        added = await tenant.post(
            "/internal/v1/rewards", json={"name": "Oud sample", "cost": 100}, headers=headers
        )
        assert added.status_code in (200, 201), added.text
    # notification learns the rewards from the tenant's events: the earn below brings one in reach
    await eventually(
        lambda: mail.fetch(
            "SELECT rewards FROM tenants WHERE tenant_id = $1 AND mode = 'live'", business.tenant_id
        ),
        lambda rows: any("Oud sample" in str(r["rewards"]) for r in rows),
        timeout=20,
    )
    async with await _ledger(stack, tokens, business) as ledger:
        member = (await ledger.post("/internal/v1/members", json={"name": "Layla", "email": email})).json()
        earned = await _earn(ledger, member["id"], 120)
        redeemed = await ledger.post(
            f"/internal/v1/members/{member['id']}/redeem",
            json={"points": 40, "idempotency_key": uuid.uuid4().hex},
        )
        undo = await ledger.post(
            f"/internal/v1/transactions/{redeemed.json()['transaction']['id']}/reverse",
            json={"reason": "wrong customer", "idempotency_key": uuid.uuid4().hex},
        )
        assert undo.status_code == 200, undo.text
    # the welcome is transactional and goes out; the nudge that a reward is in reach is marketing,
    # which this member did not agree to: notification does not send it, and says why
    await eventually(
        lambda: mail.fetch("SELECT kind, status, reason FROM messages ORDER BY kind"),
        lambda rows: (
            ("reward_affordable", "suppressed", "no_consent") in [tuple(r) for r in rows]
            and ("welcome", "sent", None) in [tuple(r) for r in rows]
        ),
        timeout=20,
    )

    page = await sign_in(browser, site, "perfumery", business.owner_email, viewport=LAPTOP)
    await page.goto(f"{site}/app/members/{member['id']}")
    txns = page.get_by_test_id("transactions")
    headers = await txns.locator("thead th").all_inner_texts()
    assert [h.lower() for h in headers] == ["when", "kind", "points", "balance after", "details", "action"]
    earn_row = txns.locator("tr", has=page.locator("td[data-kind=earn]"))
    await expect(earn_row.locator("td").first).to_have_text(_local(earned["created_at"], "Asia/Dubai"))
    await expect(earn_row.locator("td[data-kind=earn]")).to_have_text("Points earned")
    await expect(txns.locator("td[data-kind=reverse]")).to_have_text("Reversal")
    await expect(txns.locator("td[data-kind=redeem]")).to_contain_text("Points redeemed")
    body = await page.locator("main").inner_text()
    assert earned["created_at"][:16] not in body
    assert "T" not in await earn_row.locator("td").first.inner_text()
    await expect(page.get_by_test_id("time-zone")).to_have_text("Times in Dubai")

    messages = page.get_by_test_id("messages")
    assert [h.lower() for h in await messages.locator("thead th").all_inner_texts()] == [
        "when", "message", "channel", "status",
    ]  # fmt: skip
    await expect(messages.locator("td[data-kind=welcome]")).to_have_text("Welcome")
    welcome = messages.locator("tr", has=page.locator("td[data-kind=welcome]"))
    await expect(welcome.locator("td[data-status=sent]")).to_have_text("Sent")
    nudge = messages.locator("tr", has=page.locator("td[data-kind=reward_affordable]"))
    await expect(nudge.locator("td[data-kind=reward_affordable]")).to_have_text("Reward within reach")
    await expect(nudge.locator("td[data-status=suppressed]")).to_have_text(
        "Not sent — the member has not agreed to this channel"
    )
    for raw in ("points_earned", "reward_affordable", "no_consent", "suppressed"):
        assert raw not in body
    await expect(page.get_by_test_id("passes").locator("thead th")).to_have_count(4)

    shown = page.get_by_test_id("member-email")
    await expect(shown).to_have_text(email)
    fits = await shown.evaluate(
        "el => el.scrollWidth <= el.clientWidth + 1 && el.getBoundingClientRect().right"
        " <= el.closest('.stat').getBoundingClientRect().right"
    )
    assert fits, "the email is cut off"
    await shot(page, "member")

    await page.click("form[action='/app/lang'] button")
    await expect(txns.locator("td[data-kind=earn]")).to_have_text("نقاط مكتسبة")
    await expect(nudge.locator("td[data-status=suppressed]")).to_contain_text("لم يوافق العضو")
    await expect(page.get_by_test_id("time-zone")).to_have_text("الأوقات بتوقيت دبي")
    month = datetime.fromisoformat(earned["created_at"]).astimezone(ZoneInfo("Asia/Dubai")).month
    assert MONTHS[month - 1] not in await earn_row.locator("td").first.inner_text()
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(shown).to_have_text(email)
    await shot(page, "member-arabic-phone")


async def test_members_search_by_name_and_page_both_ways(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "grocer")
    async with await _ledger(stack, tokens, business) as ledger:
        for name in ("José Álvarez", "Joséphine Haddad", "Élodie Martin", "Josh"):
            email = f"{uuid.uuid4().hex}@x.test"
            await ledger.post("/internal/v1/members", json={"name": name, "email": email})
        for i in range(110):
            await ledger.post("/internal/v1/members", json={"name": f"Customer {i:03d}"})
    page = await sign_in(browser, site, "grocer", business.owner_email, viewport=LAPTOP)
    await page.goto(f"{site}/app/members")
    rows = page.get_by_test_id("members").locator("tbody tr")

    await page.get_by_test_id("member-q").fill("JOSE")
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(2)
    found = sorted(await rows.locator("td:first-child").all_inner_texts())
    assert found == ["José Álvarez", "Joséphine Haddad"]
    await page.get_by_test_id("member-q").fill("elodie m")
    await page.get_by_role("button", name="Search").click()
    await expect(rows.locator("td:first-child")).to_have_text(["Élodie Martin"])

    await page.get_by_test_id("member-q").fill("")
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(50)
    await expect(page.get_by_test_id("prev-page")).to_have_count(0)
    first_page = await rows.locator("td:first-child").all_inner_texts()
    await shot(page, "members")
    await page.get_by_test_id("next-page").click()
    second_page = await rows.locator("td:first-child").all_inner_texts()
    assert len(second_page) == 50
    assert not set(second_page) & set(first_page)
    await page.get_by_test_id("next-page").click()
    await expect(rows).to_have_count(14)
    await expect(page.get_by_test_id("next-page")).to_have_count(0)
    await page.get_by_test_id("prev-page").click()
    assert await rows.locator("td:first-child").all_inner_texts() == second_page
    await page.get_by_test_id("prev-page").click()
    assert await rows.locator("td:first-child").all_inner_texts() == first_page
    await expect(page.get_by_test_id("prev-page")).to_have_count(0)


async def _generate_members(stack: Stack, business: Business, count: int) -> None:
    """`count` members written straight into the ledger's tables (API enrolment of 100,000 would take
    the shared machine many minutes); the rows are what enrolment writes."""
    await _sql(
        stack.ledger_db,
        """
        WITH m AS (
          INSERT INTO members (id, tenant_id, mode, name, name_key, email)
          SELECT gen_random_uuid(), $1, 'live', 'Member ' || i, 'member ' || i, 'm' || i || '@bulk.test'
            FROM generate_series(1, $2) AS i
          RETURNING id
        ), a AS (
          INSERT INTO accounts (id, tenant_id, mode, kind, member_id)
          SELECT id, $1, 'live', 'member', id FROM m RETURNING id
        )
        INSERT INTO balances (account_id, tenant_id, mode) SELECT id, $1, 'live' FROM a
        """,
        business.tenant_id,
        count,
    )


async def test_members_csv_of_100000_members_streams_to_the_browser(
    stack: Stack, site: str, browser: Browser, tmp_path: Path
) -> None:
    business = await create_business(stack.tenant_db, "megastore")
    await _generate_members(stack, business, 100_000)
    page = await sign_in(browser, site, "megastore", business.owner_email, viewport=LAPTOP)
    await page.goto(f"{site}/app/members")
    started = time.monotonic()
    async with page.expect_download(timeout=180_000) as download_info:
        await page.get_by_test_id("export-members").click()
    download = await download_info.value
    target = tmp_path / "members.csv"
    await download.save_as(target)
    elapsed = time.monotonic() - started
    lines = target.read_text().splitlines()
    assert len(lines) == 100_001  # the header and every member
    assert lines[0] == "id,name,email,phone,external_id,status,balance,lifetime,created_at"
    assert len({line.split(",")[0] for line in lines[1:]}) == 100_000
    print(f"members.csv: {len(lines)} lines, {target.stat().st_size} bytes in {elapsed:.1f} s")


async def test_transactions_csv_has_every_transaction(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "cobbler")
    async with await _ledger(stack, tokens, business) as ledger:
        member = (await ledger.post("/internal/v1/members", json={"name": "Rami"})).json()
        await _earn(ledger, member["id"], 5)
        await _earn(ledger, member["id"], 7)
    page = await sign_in(browser, site, "cobbler", business.owner_email, viewport=LAPTOP)
    await page.goto(f"{site}/app/members")
    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-transactions").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("transactions-live-")
    lines = Path(await download.path()).read_text().splitlines()
    assert lines[0].startswith("id,member_id,kind,points")
    rows = [line.split(",")[1:4] for line in lines[1:]]
    assert rows == [[member["id"], "earn", "5"], [member["id"], "earn", "7"]]


async def test_overview_charts_have_axes_legend_values_on_focus_a_period_and_net_out_reversals(
    stack: Stack, site: str, browser: Browser, tokens: TestTokens, shot: Any
) -> None:
    business = await create_business(stack.tenant_db, "florist")
    async with await _ledger(stack, tokens, business) as ledger:
        member = (await ledger.post("/internal/v1/members", json={"name": "Nour"})).json()
        await _earn(ledger, member["id"], 100)
        for points in (30, 20):
            redeemed = await ledger.post(
                f"/internal/v1/members/{member['id']}/redeem",
                json={"points": points, "idempotency_key": uuid.uuid4().hex},
            )
            last = redeemed.json()["transaction"]["id"]
            if points == 30:  # the 30-point redemption was a mistake and is undone
                undo = await ledger.post(
                    f"/internal/v1/transactions/{last}/reverse",
                    json={"reason": "wrong member", "idempotency_key": uuid.uuid4().hex},
                )
                assert undo.status_code == 200, undo.text
    page = await sign_in(browser, site, "florist", business.owner_email, viewport=LAPTOP)
    await expect(page.get_by_test_id("stat-issued")).to_have_text("100")
    await expect(page.get_by_test_id("stat-redeemed")).to_have_text("20")

    points_chart = page.get_by_test_id("points-chart")
    await expect(points_chart.locator(".legend li")).to_have_text(["Points issued", "Points redeemed"])
    assert await points_chart.locator(".axis text").count() >= 5  # y ticks and day labels
    days = points_chart.locator("g.pt")
    await expect(days).to_have_count(30)
    today = days.last
    await today.focus()
    await expect(today.locator(".tip")).to_be_visible()
    await expect(today.locator(".tip")).to_contain_text("Points redeemed: 20")
    assert "Points issued 100, Points redeemed 20" in (await today.get_attribute("aria-label") or "")
    await expect(days.first.locator(".tip")).to_be_hidden()
    await expect(page.get_by_test_id("scans-chart").locator("g.pt").last).to_have_attribute(
        "aria-label", re.compile(r"Transactions 2$")
    )  # earn + the redemption that stood; the undone one and its reversal cancel out
    await shot(page, "overview")
    await points_chart.locator("details.chart-table summary").click()
    table_today = points_chart.locator("details.chart-table tbody tr").last
    await expect(table_today.locator("td")).to_have_text(["100", "20"])

    await page.get_by_label("Period").select_option("7")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"days=7"))
    await expect(points_chart.locator("g.pt")).to_have_count(7)
    await expect(page.get_by_test_id("stat-redeemed")).to_have_text("20")
