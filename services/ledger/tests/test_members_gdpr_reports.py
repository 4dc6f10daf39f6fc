"""Members (search, external id, contact changes), GDPR export and erasure, and the reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import asyncpg
from ledger_helpers import Api
from nujoomy_kit.db import plain_url
from nujoomy_testing.tokens import TestTokens


async def test_search_by_external_id_email_phone_and_unique_external_id(api: Api) -> None:
    ada = await api.enrol(name="Ada", email="Ada@Example.com", phone="+33 6 12 34 56 78", external_id="pos-1")
    await api.enrol(name="Bob", email="bob@example.com")
    dup = await api.client.post("/internal/v1/members", json={"external_id": "pos-1"}, headers=api.headers)
    assert (dup.status_code, dup.json()["code"]) == (409, "duplicate_external_id")
    for params in ({"external_id": "pos-1"}, {"email": "ada@example.com"}, {"phone": "+33 6 12 34 56 78"}):
        found = (await api.client.get("/internal/v1/members", params=params, headers=api.headers)).json()
        assert [m["id"] for m in found["data"]] == [ada["id"]], params
    page = (await api.client.get("/internal/v1/members", params={"limit": 1}, headers=api.headers)).json()
    assert page["next_cursor"] is not None
    bad = await api.client.post("/internal/v1/members", json={"email": "not-an-email"}, headers=api.headers)
    assert bad.status_code == 422


async def test_patch_changes_contact_and_consent_and_publishes(api: Api, db_url: str) -> None:
    member = await api.enrol(name="Ada")
    r = await api.client.patch(
        f"/internal/v1/members/{member['id']}",
        json={"email": "a@b.co", "consent_email": True},
        headers=api.headers,
    )
    assert (r.json()["email"], r.json()["consent_email"], r.json()["name"]) == ("a@b.co", True, "Ada")
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM outbox WHERE routing_key = 'ledger.member.updated'")
            == 1
        )
    finally:
        await conn.close()


async def test_export_holds_everything_and_erasure_wipes_personal_fields_but_keeps_the_ledger(
    api: Api, client: Any, tokens: TestTokens, tenant: Any, db_url: str
) -> None:
    member = await api.enrol(name="Ada", email="ada@example.com", phone="+33 6 12 34 56 78", external_id="x1")
    await api.earn(member["id"], points=80)
    await api.redeem(member["id"], points=30)
    # GDPR export and erase are a manager's, as in the dashboard; no partner scope reaches them.
    manager = tokens.headers(tokens.staff(tenant, role="manager"))
    export = (await client.get(f"/internal/v1/members/{member['id']}/export", headers=manager)).json()
    assert export["member"]["email"] == "ada@example.com"
    assert [t["kind"] for t in export["transactions"]] == ["redeem", "earn"]
    assert export["cards"][0]["token"] == member["card_token"]

    staff_headers = tokens.headers(tokens.staff(tenant, role="staff"))
    refused = await client.post(f"/internal/v1/members/{member['id']}/erase", headers=staff_headers)
    assert refused.status_code == 403
    assert (
        await client.post(f"/internal/v1/members/{member['id']}/erase", headers=api.headers)
    ).status_code == 403
    erased = (await client.post(f"/internal/v1/members/{member['id']}/erase", headers=manager)).json()
    assert {k: erased[k] for k in ("name", "email", "phone", "external_id", "card_token", "status")} == {
        "name": None,
        "email": None,
        "phone": None,
        "external_id": None,
        "card_token": None,
        "status": "erased",
    }
    assert erased["balance"] == 50  # the ledger is kept
    after = (await client.get(f"/internal/v1/members/{member['id']}/export", headers=manager)).json()
    assert "ada@example.com" not in str(after)
    assert "+33612345678" not in str(after)
    assert (await api.earn(member["id"], points=1)).json()["code"] == "member_erased"
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM outbox WHERE routing_key = 'ledger.member.erased'") == 1
        )
        assert await conn.fetchval("SELECT count(*) FROM postings") == 4
    finally:
        await conn.close()


async def test_outstanding_is_the_sum_of_member_balances_and_daily_figures(
    api: Api, client: Any, tokens: TestTokens, tenant: Any
) -> None:
    a = await api.enrol(name="A")
    b = await api.enrol(name="B")
    await api.earn(a["id"], points=100)
    await api.earn(b["id"], points=50)
    await api.redeem(a["id"], points=30)
    test_mode = Api(client, tokens, tenant, "test")
    c = await test_mode.enrol(name="C")
    await test_mode.earn(c["id"], points=999)

    manager = tokens.headers(tokens.staff(tenant, role="manager"))
    r = await client.get("/internal/v1/reports/outstanding", headers=manager)
    assert r.json() == {"outstanding_points": 120, "ledger_sum": 0, "members": 2}
    daily = (await client.get("/internal/v1/reports/daily", headers=manager)).json()["data"]
    assert len(daily) == 1
    figures = ("issued", "redeemed", "expired", "transactions")
    assert Counter({k: daily[0][k] for k in figures}) == Counter(
        {"issued": 150, "redeemed": 30, "expired": 0, "transactions": 3}
    )
    staff_only = tokens.headers(tokens.staff(tenant, role="staff"))
    assert (await client.get("/internal/v1/reports/outstanding", headers=staff_only)).status_code == 403
    assert (await client.get("/internal/v1/reports/outstanding", headers=api.headers)).status_code == 403
