"""The counter scanner over the real tenant, ledger and wallet-pass services: look up a card, earn by
amount (a retry with the same idempotency key posts once), redeem, undo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
from nujoomy_kit.ids import decode_id
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens

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
    signed = await web.post(
        "/app/login",
        data={"tenant": "brew", "email": "barista@brew.test", "password": PASSWORD},
        follow_redirects=False,
    )
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
    await stack_web.post(
        "/app/login", data={"tenant": "cafe", "email": business.owner_email, "password": PASSWORD}
    )
    missing = await stack_web.get("/bff/scan/cards/NOPE-NOPE-NOPE")
    assert missing.status_code == 404
