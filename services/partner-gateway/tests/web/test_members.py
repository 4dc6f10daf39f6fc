"""Members over the real ledger: search, detail, an adjustment with a reason, its reversal; staff see
members but cannot adjust; an owner invites staff and sees the one-time link."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import httpx
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from nujoomy_testing.web import post_login

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import PASSWORD, Stack, add_staff, create_business


async def test_manager_finds_a_member_adjusts_with_a_reason_and_reverses(
    stack: Stack, stack_web: Any, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "bistro")
    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        await eventually(lambda: ledger.get("/internal/v1/rewards"), lambda r: r.status_code == 200)
        member = (
            await ledger.post("/internal/v1/members", json={"name": "Sami", "email": "sami@example.com"})
        ).json()
    web = stack_web
    await post_login(web, "bistro", business.owner_email, PASSWORD)
    csrf = web.cookies.get("nj_csrf")

    found = await web.get("/app/members", params={"email": "sami@example.com"})
    assert f"/app/members/{member['id']}" in found.text
    detail = await web.get(f"/app/members/{member['id']}")
    assert 'data-testid="member-balance">0<' in detail.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', detail.text)
    assert key

    form = {"_csrf": csrf, "points": "25", "reason": "birthday gift", "idempotency_key": key.group(1)}
    adjusted = await web.post(f"/app/members/{member['id']}/adjust", data=form, follow_redirects=False)
    assert adjusted.status_code == 303, adjusted.text
    resent = await web.post(f"/app/members/{member['id']}/adjust", data=form, follow_redirects=False)
    assert resent.status_code == 303  # a double-submitted form posts once
    detail = await web.get(f"/app/members/{member['id']}")
    assert 'data-testid="member-balance">25<' in detail.text
    assert "birthday gift" in detail.text

    txn = re.search(r'/transactions/(txn_[^/]+)/reverse"', detail.text)
    assert txn
    reverse = {"_csrf": csrf, "reason": "entered by mistake", "idempotency_key": key.group(1) + "-r"}
    reversed_ = await web.post(
        f"/app/members/{member['id']}/transactions/{txn.group(1)}/reverse",
        data=reverse,
        follow_redirects=False,
    )
    assert reversed_.status_code == 303, reversed_.text
    detail = await web.get(f"/app/members/{member['id']}")
    assert 'data-testid="member-balance">0<' in detail.text

    exported = await web.get(f"/app/members/{member['id']}/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert "sami@example.com" in exported.text
    # One click only asks (a page, when no script turned it into the dialog); nothing is erased yet.
    asked = await web.post(f"/app/members/{member['id']}/erase", data={"_csrf": csrf}, follow_redirects=False)
    assert asked.status_code == 200
    assert 'data-testid="confirm-page"' in asked.text
    assert 'name="_confirmed" value="1"' in asked.text
    still = await web.get("/app/members", params={"email": "sami@example.com"})
    assert f"/app/members/{member['id']}" in still.text
    erased = await web.post(
        f"/app/members/{member['id']}/erase",
        data={"_csrf": csrf, "_confirmed": "1"},
        follow_redirects=False,
    )
    assert erased.status_code == 303, erased.text
    after = await web.get("/app/members", params={"email": "sami@example.com"})
    assert f"/app/members/{member['id']}" not in after.text


async def test_staff_sees_members_but_not_the_adjust_form(stack: Stack, stack_web: Any) -> None:
    business = await create_business(stack.tenant_db, "grill")
    await add_staff(stack.tenant_db, business, "cook@grill.test", "staff")
    await post_login(stack_web, "grill", "cook@grill.test", PASSWORD)
    page = await stack_web.get("/app/members")
    assert page.status_code == 200
    refused = await stack_web.post(
        "/app/members/mbr_x/adjust",
        data={
            "_csrf": stack_web.cookies.get("nj_csrf"),
            "points": "5",
            "reason": "x",
            "idempotency_key": "k" * 10,
        },
    )
    assert refused.status_code == 403


async def test_owner_invites_staff_and_sees_the_one_time_link(stack: Stack, stack_web: Any) -> None:
    business = await create_business(stack.tenant_db, "deli")
    await post_login(stack_web, "deli", business.owner_email, PASSWORD)
    invited = await stack_web.post(
        "/app/staff",
        data={
            "_csrf": stack_web.cookies.get("nj_csrf"),
            "email": "new@deli.test",
            "name": "New",
            "role": "staff",
        },
    )
    assert invited.status_code == 200, invited.text
    assert 'data-testid="notice"' in invited.text
    listing = await stack_web.get("/app/staff")
    assert "new@deli.test" in listing.text
    staff_id = re.search(r"/app/staff/(stf_[^/]+)/role", listing.text.split("new@deli.test", 1)[1])
    assert staff_id
    csrf = stack_web.cookies.get("nj_csrf")
    promoted = await stack_web.post(
        f"/app/staff/{staff_id.group(1)}/role",
        data={"_csrf": csrf, "value": "manager"},
        follow_redirects=False,
    )
    assert promoted.status_code == 303, promoted.text
    disabled = await stack_web.post(
        f"/app/staff/{staff_id.group(1)}/disable",
        data={"_csrf": csrf, "_confirmed": "1"},
        follow_redirects=False,
    )
    assert disabled.status_code == 303, disabled.text
    row = (await stack_web.get("/app/staff")).text.split("new@deli.test", 1)[1].split("</tr>", 1)[0]
    assert "<td>Manager</td>" in row
    assert "<td>Yes</td>" in row
