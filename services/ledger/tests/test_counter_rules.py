"""The counter's rules: a card found by the code printed under its QR, and a staff member's large
earn refused unless a manager of the same business approves it (the approver kept on the
transaction)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec
from ledger_helpers import Api, program, project
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_ledger.domain.cards import fold_printed, printed_code
from nujoomy_testing.tokens import TestTokens
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def staff(tokens: TestTokens, tenant: uuid.UUID, role: str = "staff", **extra: Any) -> dict[str, str]:
    return tokens.headers(tokens.staff(tenant, role=role, **extra))  # type: ignore[arg-type]


def misread(code: str) -> str:
    """The printed code as someone types it: lower case, O as 0, I as 1, B as 8, L as l, a space."""
    typed = code.lower().replace("o", "0").replace("i", "1").replace("b", "8")
    return typed[:4] + " " + typed[4:]


async def test_the_code_printed_under_the_qr_finds_the_card_typed_carelessly(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    member = await api.enrol(name="Ada")
    token = member["card_token"]
    for typed in (printed_code(token), printed_code(token).lower(), misread(printed_code(token))):
        r = await client.get(f"/staff/v1/cards/{typed}", headers=staff(tokens, tenant))
        assert r.status_code == 200, (typed, r.text)
        assert (r.json()["member_id"], r.json()["card_token"]) == (member["id"], token)
    # Another business's card with the same printed code is still no card here.
    other = await client.get(f"/staff/v1/cards/{printed_code(token)}", headers=staff(tokens, uuid.uuid4()))
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


def test_ambiguous_characters_fold_to_one_letter() -> None:
    assert fold_printed("ab0c-1l8z") == fold_printed("ABOCIIBZ") == "ABOCIIBZ"
    assert fold_printed("ABCDEFG") is None  # too short
    assert fold_printed("ABCDEFG9") is None  # 9 is in no printed code


async def test_two_cards_sharing_a_printed_code_are_refused_not_guessed(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID, db_url: str
) -> None:
    first = await api.enrol(name="Ada")
    second = await api.enrol(name="Bea")
    twin = second["card_token"][:-8] + first["card_token"][-8:].replace("I", "L")
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        await conn.execute("UPDATE cards SET token = $1 WHERE token = $2", twin, second["card_token"])
    finally:
        await conn.close()
    r = await client.get(f"/staff/v1/cards/{first['card_token'][-8:]}", headers=staff(tokens, tenant))
    assert (r.status_code, r.json()["code"]) == (409, "card_code_ambiguous")
    full = await client.get(f"/staff/v1/cards/{twin}", headers=staff(tokens, tenant))
    assert full.json()["member_id"] == second["id"]


async def _capped(sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID, maximum: int | None) -> None:
    prog = program(tenant, version=2)
    rule = msgspec.structs.replace(prog.earn_rule, max_per_transaction=maximum)
    await project(sessions, msgspec.structs.replace(prog, earn_rule=rule))


def _earn(card: str, points: int, key: str) -> dict[str, Any]:
    return {"card_token": card, "points": points, "idempotency_key": key}


async def test_a_staff_earn_over_the_maximum_needs_a_manager_of_the_same_business(
    api: Api,
    client: Any,
    tokens: TestTokens,
    tenant: uuid.UUID,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _capped(sessions, tenant, 50)
    member = await api.enrol(name="Ada")
    card = member["card_token"]
    barista = staff(tokens, tenant)

    refused = await client.post("/staff/v1/earn", json=_earn(card, 1_000_000, "big-1"), headers=barista)
    assert refused.status_code == 403, refused.text
    assert (refused.json()["code"], refused.json()["maximum"]) == ("manager_approval_required", 50)
    at_max = await client.post("/staff/v1/earn", json=_earn(card, 50, "ok-1"), headers=barista)
    assert at_max.status_code == 200, at_max.text
    assert at_max.json()["transaction"]["approved_by"] is None

    # An approval that is not a manager's of this business changes nothing.
    for approval in (
        tokens.staff(tenant, role="staff"),
        tokens.staff(uuid.uuid4(), role="owner"),
        "not-a-token",
    ):
        r = await client.post(
            "/staff/v1/earn",
            json=_earn(card, 80, "big-2"),
            headers={**barista, "Nujoomy-Approval": approval},
        )
        assert (r.status_code, r.json()["code"]) == (403, "approval_invalid"), approval

    manager_id = uuid.uuid4()
    approval = tokens.staff(tenant, role="manager", staff_id=manager_id)
    approved = await client.post(
        "/staff/v1/earn", json=_earn(card, 80, "big-2"), headers={**barista, "Nujoomy-Approval": approval}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["balance"]["balance"] == 130
    txn = approved.json()["transaction"]
    assert txn["approved_by"] == encode_id("stf", manager_id)
    history = await api.client.get(f"/internal/v1/members/{member['id']}/transactions", headers=api.headers)
    assert [t["approved_by"] for t in history.json()["data"]] == [encode_id("stf", manager_id), None]

    # A manager at the counter needs nobody's approval; neither does the partner API.
    manager = staff(tokens, tenant, "manager")
    own = await client.post("/staff/v1/earn", json=_earn(card, 500, "mgr-1"), headers=manager)
    assert own.status_code == 200, own.text
    assert (await api.earn(member["id"], points=500)).status_code == 200


async def test_the_default_maximum_stops_a_million_point_scan(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    member = await api.enrol(name="Ada")
    body = _earn(member["card_token"], 1_000_000, "million")
    r = await client.post("/staff/v1/earn", json=body, headers=staff(tokens, tenant))
    assert (r.status_code, r.json()["code"], r.json()["maximum"]) == (403, "manager_approval_required", 1000)
    card = await client.get(f"/staff/v1/cards/{member['card_token']}", headers=staff(tokens, tenant))
    assert card.json()["max_per_transaction"] == 1000
    assert card.json()["balance"] == 0
