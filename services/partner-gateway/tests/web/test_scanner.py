"""The counter scanner over the real tenant, ledger and wallet-pass services: look up a card, earn by
amount (a retry with the same idempotency key posts once), redeem, undo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import decode_id, encode_id
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from nujoomy_testing.web import post_login

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import PASSWORD, Stack, add_staff, create_business


async def enrol_member(stack: Stack, tokens: TestTokens, tenant_id: Any) -> dict[str, Any]:
    """A customer as the ledger enrols one (the join page's path), once the program has projected."""
    headers = tokens.headers(tokens.internal(tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        await eventually(
            lambda: ledger.get("/internal/v1/rewards"),
            lambda r: r.status_code == 200 and r.json() is not None,
        )
        created = await ledger.post(
            "/internal/v1/members", json={"name": "Layla", "email": "layla@example.com"}
        )
        assert created.status_code == 201, created.text
        return created.json()  # type: ignore[no-any-return]


async def test_staff_scans_earns_redeems_and_undoes(stack: Stack, stack_web: Any, tokens: TestTokens) -> None:
    business = await create_business(stack.tenant_db, "brew")
    await add_staff(stack.tenant_db, business, "barista@brew.test", "staff")
    member = await enrol_member(stack, tokens, business.tenant_id)
    web = stack_web
    signed = await post_login(web, "brew", "barista@brew.test", PASSWORD)
    assert signed.headers["location"] == "/app/scan"
    page = await web.get("/app/scan")
    assert page.status_code == 200
    assert 'data-testid="card-code"' in page.text
    csrf = {"X-CSRF-Token": web.cookies.get("nj_csrf")}

    card = await eventually(
        lambda: web.get(f"/bff/scan/cards/{member['card_token']}"), lambda r: r.status_code == 200
    )
    assert card.json()["balance"] == 0
    earn = {
        "card_token": member["card_token"],
        "idempotency_key": "act-earn-0001",
        "amount": {"value": "12.50", "currency": "EUR"},
    }
    first = await web.post("/bff/scan/earn", json=earn, headers=csrf)
    assert first.status_code == 200, first.text
    again = await web.post("/bff/scan/earn", json=earn, headers=csrf)  # the flaky-network retry
    assert again.json()["transaction"]["id"] == first.json()["transaction"]["id"]
    earned = first.json()["balance"]["balance"]
    assert earned > 0
    card = await web.get(f"/bff/scan/cards/{member['card_token']}")
    assert card.json()["balance"] == earned  # posted once

    redeem = {"card_token": member["card_token"], "idempotency_key": "act-redeem-01", "points": 5}
    redeemed = await web.post("/bff/scan/redeem", json=redeem, headers=csrf)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["balance"]["balance"] == earned - 5

    undo = {"transaction_id": redeemed.json()["transaction"]["id"], "idempotency_key": "act-undo-0001"}
    undone = await web.post("/bff/scan/undo", json=undo, headers=csrf)
    assert undone.status_code == 200, undone.text
    assert undone.json()["balance"]["balance"] == earned

    refused = await web.post("/bff/scan/earn", json={**earn, "idempotency_key": "act-earn-0002"})
    assert refused.json()["code"] == "csrf_failed"
    assert decode_id("mbr", member["id"])


async def test_an_unknown_card_answers_not_found(stack: Stack, stack_web: Any) -> None:
    business = await create_business(stack.tenant_db, "cafe")
    await post_login(stack_web, "cafe", business.owner_email, PASSWORD)
    missing = await stack_web.get("/bff/scan/cards/NOPE-NOPE-NOPE")
    assert missing.status_code == 404


async def test_a_large_earn_is_posted_under_a_manager_who_signs_in_at_the_counter(
    stack: Stack, stack_web: Any, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "bigorder")
    await add_staff(stack.tenant_db, business, "barista@bigorder.test", "staff")
    await add_staff(stack.tenant_db, business, "manager@bigorder.test", "manager")
    member = await enrol_member(stack, tokens, business.tenant_id)
    web = stack_web
    await post_login(web, "bigorder", "barista@bigorder.test", PASSWORD)
    csrf = {"X-CSRF-Token": web.cookies.get("nj_csrf")}
    earn = {"card_token": member["card_token"], "idempotency_key": "act-big-0001", "points": 1_000_000}

    refused = await web.post("/bff/scan/earn", json=earn, headers=csrf)
    assert (refused.status_code, refused.json()["code"], refused.json()["maximum"]) == (
        403,
        "manager_approval_required",
        1000,
    )
    cases = [
        ({"email": "manager@bigorder.test", "password": "not it"}, "approval_refused"),
        ({"email": "barista@bigorder.test", "password": PASSWORD}, "approval_invalid"),
    ]
    for approval, code in cases:
        answer = await web.post("/bff/scan/earn", json={**earn, "approval": approval}, headers=csrf)
        assert (answer.status_code, answer.json()["code"]) == (403, code), answer.text

    manager = {"email": "manager@bigorder.test", "password": PASSWORD}
    approved = await web.post("/bff/scan/earn", json={**earn, "approval": manager}, headers=csrf)
    assert approved.status_code == 200, approved.text
    assert approved.json()["balance"]["balance"] == 1_000_000
    conn = await asyncpg.connect(plain_url(stack.tenant_db))
    try:
        manager_id = await conn.fetchval("SELECT id FROM staff WHERE email = 'manager@bigorder.test'")
        live = await conn.fetchval(
            "SELECT count(*) FROM refresh_tokens "
            "WHERE staff_id = $1 AND revoked_at IS NULL AND used_at IS NULL",
            manager_id,
        )
    finally:
        await conn.close()
    assert approved.json()["transaction"]["approved_by"] == encode_id("stf", manager_id)
    assert live == 0  # the counter keeps no manager session
