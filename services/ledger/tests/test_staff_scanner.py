"""The counter scanner (/staff/v1) with staff session tokens: look up a card, earn, redeem, reverse."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from ledger_helpers import CAKE, COFFEE, Api
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import decode_id, encode_id
from nujoomy_testing.tokens import TestTokens


def staff(
    tokens: TestTokens, tenant: uuid.UUID, role: str = "staff", mode: str | None = None
) -> dict[str, str]:
    return tokens.headers(tokens.staff(tenant, role=role), mode)  # type: ignore[arg-type]


async def test_scan_shows_name_balance_and_affordable_rewards(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    member = await api.enrol(name="Ada")
    await api.earn(member["id"], points=120)
    r = await client.get(f"/staff/v1/cards/{member['card_token'].lower()}", headers=staff(tokens, tenant))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["member_id"], body["name"], body["balance"], body["balance_label"]) == (
        member["id"],
        "Ada",
        120,
        "Beans",
    )
    assert [w["id"] for w in body["affordable_rewards"]] == [encode_id("rwd", COFFEE)]


async def test_earn_and_redeem_by_card_answer_with_the_new_balance(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    member = await api.enrol(name="Ada")
    headers = staff(tokens, tenant)
    loc = encode_id("loc", uuid.uuid4())
    r = await client.post(
        "/staff/v1/earn",
        json={
            "card_token": member["card_token"],
            "amount": {"value": "300.00", "currency": "EUR"},
            "location_id": loc,
            "idempotency_key": "scan-1",
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["balance"]["balance"], r.json()["transaction"]["location_id"]) == (300, loc)
    r = await client.post(
        "/staff/v1/redeem",
        json={
            "card_token": member["card_token"],
            "reward_id": encode_id("rwd", CAKE),
            "idempotency_key": "scan-2",
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["balance"]["balance"] == 50


async def test_unknown_revoked_or_foreign_cards_are_not_found(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID, db_url: str
) -> None:
    member = await api.enrol(name="Ada")
    old_token = member["card_token"]
    reissued = (await client.post(f"/internal/v1/members/{member['id']}/card", headers=api.headers)).json()
    assert reissued["card_token"] != old_token
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        bodies = await conn.fetch("SELECT body FROM outbox WHERE routing_key = 'ledger.card.reissued'")
    finally:
        await conn.close()
    assert len(bodies) == 1
    assert reissued["card_token"].encode() in bodies[0]["body"]
    cases = [
        (f"/staff/v1/cards/{old_token}", staff(tokens, tenant)),  # revoked at once
        ("/staff/v1/cards/NJ1-AAAAAAAAAAAAAAAAAAAAAAAAAA", staff(tokens, tenant)),  # never issued
        ("/staff/v1/cards/hello", staff(tokens, tenant)),  # not even a card
        (f"/staff/v1/cards/{reissued['card_token']}", staff(tokens, uuid.uuid4())),  # another tenant
        (f"/staff/v1/cards/{reissued['card_token']}", staff(tokens, tenant, mode="test")),  # the other mode
    ]
    for url, headers in cases:
        r = await client.get(url, headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), url
    earn = await client.post(
        "/staff/v1/earn",
        json={"card_token": old_token, "amount": {"value": "5", "currency": "EUR"}, "idempotency_key": "x"},
        headers=staff(tokens, tenant),
    )
    assert earn.status_code == 404
    assert (
        await client.get(f"/staff/v1/cards/{reissued['card_token']}", headers=staff(tokens, tenant))
    ).status_code == 200


async def test_staff_reverse_recent_only_manager_reverses_older(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID, db_url: str
) -> None:
    member = await api.enrol(name="Ada")
    recent = (await api.earn(member["id"], points=10)).json()["transaction"]["id"]
    old = (await api.earn(member["id"], points=20)).json()["transaction"]["id"]
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        # Back-date the old one (transactions are append-only; the test lifts the guard for this row).
        await conn.execute("ALTER TABLE transactions DISABLE TRIGGER transactions_append_only")
        await conn.execute(
            "UPDATE transactions SET created_at = now() - interval '2 hours' WHERE id = $1",
            decode_id("txn", old),
        )
        await conn.execute("ALTER TABLE transactions ENABLE TRIGGER transactions_append_only")
    finally:
        await conn.close()

    def body(txn: str, key: str) -> dict[str, str]:
        return {"transaction_id": txn, "idempotency_key": key}

    ok = await client.post("/staff/v1/reverse", json=body(recent, "r1"), headers=staff(tokens, tenant))
    assert (ok.status_code, ok.json()["balance"]["balance"]) == (200, 20)
    refused = await client.post("/staff/v1/reverse", json=body(old, "r2"), headers=staff(tokens, tenant))
    assert (refused.status_code, refused.json()["code"]) == (403, "reversal_window_passed")
    manager = await client.post(
        "/staff/v1/reverse", json=body(old, "r3"), headers=staff(tokens, tenant, "manager")
    )
    assert (manager.status_code, manager.json()["balance"]["balance"]) == (200, 0)


async def test_scanner_needs_a_staff_session(client: Any, tokens: TestTokens) -> None:
    assert (await client.get("/staff/v1/cards/NJ1-AAAAAAAAAAAAAAAAAAAAAAAAAA")).status_code == 401
    bogus = {"Authorization": "Bearer not-a-token"}
    assert (await client.post("/staff/v1/earn", json={}, headers=bogus)).json()["code"] == "unauthorized"
