"""The internal API's earn, redeem and reverse, with the bad inputs and the tenant/mode isolation."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from ledger_helpers import CAKE, COFFEE, Api, program, project, reward
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_testing.tokens import TestTokens
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

RWD_COFFEE = encode_id("rwd", COFFEE)


async def test_earn_by_amount_uses_the_projected_rule_and_records_its_version(api: Api) -> None:
    member = await api.enrol(name="Ada")
    r = await api.earn(member["id"], amount={"value": "9.99", "currency": "EUR"}, reference="till-1")
    body = r.json()
    assert body["transaction"]["points"] == 9
    assert body["transaction"]["program_version"] == 1
    assert body["transaction"]["reference"] == "till-1"
    assert body["balance"] == {"balance": 9, "lifetime_points": 9, "reserved": 0, "available": 9}


async def test_a_newer_program_changes_the_rule_an_older_one_is_ignored(
    api: Api, sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID
) -> None:
    await project(sessions, program(tenant, version=3, points_per_unit=10))
    await project(sessions, program(tenant, version=2, points_per_unit=100))  # late, older: dropped
    member = await api.enrol(name="Ada")
    body = (await api.earn(member["id"], amount={"value": "2.50", "currency": "EUR"})).json()
    assert body["transaction"]["points"] == 20
    assert body["transaction"]["program_version"] == 3


async def test_same_key_same_request_replays_different_request_conflicts(api: Api) -> None:
    member = await api.enrol(name="Ada")
    first = (await api.earn(member["id"], points=10, idempotency_key="k1")).json()
    again = (await api.earn(member["id"], points=10, idempotency_key="k1")).json()
    assert again["transaction"] == first["transaction"]
    assert again["replayed"] is True
    assert again["balance"]["balance"] == 10

    clash = await api.earn(member["id"], points=11, idempotency_key="k1")
    assert clash.status_code == 409
    assert clash.headers["content-type"].startswith("application/problem+json")
    assert (clash.json()["code"], clash.json()["field"]) == ("idempotency_conflict", "points")
    as_redeem = await api.redeem(member["id"], points=10, idempotency_key="k1")
    assert (as_redeem.json()["code"], as_redeem.json()["field"]) == ("idempotency_conflict", "kind")


async def test_insufficient_points_names_the_shortfall(api: Api) -> None:
    member = await api.enrol(name="Ada")
    await api.earn(member["id"], points=60)
    r = await api.redeem(member["id"], reward_id=RWD_COFFEE)
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["shortfall"], r.json()["available"]) == ("insufficient_points", 40, 60)
    assert (await api.member(member["id"])).json()["balance"] == 60


async def test_redeeming_a_reward_posts_its_cost_and_a_reward_event(api: Api, db_url: str) -> None:
    member = await api.enrol(name="Ada")
    await api.earn(member["id"], points=400)
    r = await api.redeem(member["id"], reward_id=encode_id("rwd", CAKE))
    assert r.status_code == 200, r.text
    assert (r.json()["transaction"]["points"], r.json()["balance"]["balance"]) == (-250, 150)
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM outbox WHERE routing_key = 'ledger.reward.redeemed'")
            == 1
        )
    finally:
        await conn.close()


async def test_rewards_outside_their_window_or_over_their_limit_are_refused(
    api: Api, sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID
) -> None:
    from datetime import UTC, datetime, timedelta

    later = datetime.now(UTC) + timedelta(days=3)
    await project(
        sessions,
        program(
            tenant,
            version=2,
            rewards=[reward(COFFEE, limit_per_day=1), reward(CAKE, "Cake", 10, active_from=later)],
        ),
    )
    member = await api.enrol(name="Ada")
    await api.earn(member["id"], points=1000)
    assert (await api.redeem(member["id"], reward_id=RWD_COFFEE, idempotency_key="c1")).status_code == 200
    again = await api.redeem(member["id"], reward_id=RWD_COFFEE)
    assert (again.status_code, again.json()["code"]) == (422, "reward_limit_reached")
    replay = await api.redeem(member["id"], reward_id=RWD_COFFEE, idempotency_key="c1")
    assert replay.status_code == 200
    assert replay.json()["replayed"]
    early = await api.redeem(member["id"], reward_id=encode_id("rwd", CAKE))
    assert (early.status_code, early.json()["code"]) == (422, "reward_unavailable")
    unknown = await api.redeem(member["id"], reward_id=encode_id("rwd", uuid.uuid4()))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


async def test_bad_input_answers_problems_with_stable_codes(api: Api) -> None:
    member = await api.enrol(name="Ada")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"amount": {"value": "-5", "currency": "EUR"}}, 422, "invalid_amount"),
        ({"amount": {"value": "99999999", "currency": "EUR"}}, 422, "invalid_amount"),
        ({"amount": {"value": "ten", "currency": "EUR"}}, 422, "invalid_amount"),
        ({"amount": {"value": "10", "currency": "XXQ"}}, 422, "unknown_currency"),
        ({"amount": {"value": "10", "currency": "USD"}}, 422, "currency_mismatch"),
        ({"points": 0}, 422, "invalid_points"),
        ({"points": 10**12}, 422, "invalid_points"),
        ({"points": 5, "amount": {"value": "1", "currency": "EUR"}}, 422, "invalid_input"),
        ({"points": 5, "location_id": "loc_nope"}, 422, "invalid_input"),
        ({"points": 5, "surprise": True}, 422, "invalid_input"),
    ]
    for body, status, code in cases:
        r = await api.earn(member["id"], **body)
        assert (r.status_code, r.json().get("code")) == (status, code), (body, r.text)
    missing_key = await api.client.post(
        f"/internal/v1/members/{member['id']}/earn", json={"points": 5}, headers=api.headers
    )
    assert missing_key.status_code == 422
    assert (await api.member(member["id"])).json()["balance"] == 0


async def test_other_tenant_and_other_mode_ids_are_not_found(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    member = await api.enrol(name="Ada")
    earned = (await api.earn(member["id"], points=50)).json()
    other_tenant = Api(client, tokens, uuid.uuid4())
    test_mode = Api(client, tokens, tenant, "test")
    for outsider in (other_tenant, test_mode):
        assert (await outsider.member(member["id"])).json()["code"] == "not_found"
        assert (await outsider.earn(member["id"], points=5)).status_code == 404
        assert (await outsider.reverse(earned["transaction"]["id"])).status_code == 404
        r = await client.get(f"/internal/v1/members/{member['id']}/transactions", headers=outsider.headers)
        assert r.status_code == 404
    assert (await api.client.get("/internal/v1/members/txn_0000", headers=api.headers)).status_code == 404
    assert (await api.member(member["id"])).json()["balance"] == 50


async def test_reversing_an_earn_after_spending_goes_negative_and_only_once(api: Api) -> None:
    member = await api.enrol(name="Ada")
    earned = (await api.earn(member["id"], points=100)).json()
    await api.redeem(member["id"], points=80)
    r = await api.reverse(earned["transaction"]["id"], reason="refund")
    assert r.status_code == 200, r.text
    assert r.json()["balance"]["balance"] == -80
    assert r.json()["transaction"]["reverses"] == earned["transaction"]["id"]
    twice = await api.reverse(earned["transaction"]["id"])
    assert (twice.status_code, twice.json()["code"]) == (409, "already_reversed")
    reversal = r.json()["transaction"]["id"]
    assert (await api.reverse(reversal)).json()["code"] == "not_reversible"
    # Spending while negative is refused.
    assert (await api.redeem(member["id"], points=1)).json()["code"] == "insufficient_points"


async def test_transactions_list_newest_first_with_a_cursor(api: Api) -> None:
    member = await api.enrol(name="Ada")
    for points in (1, 2, 3, 4, 5):
        await api.earn(member["id"], points=points)
    url = f"/internal/v1/members/{member['id']}/transactions"
    first = (await api.client.get(url, params={"limit": 3}, headers=api.headers)).json()
    assert [t["points"] for t in first["data"]] == [5, 4, 3]
    rest = (
        await api.client.get(url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=api.headers)
    ).json()
    assert [t["points"] for t in rest["data"]] == [2, 1]
    assert rest["next_cursor"] is None


async def test_manager_adjustments_credit_and_debit_and_reverse(
    api: Api, client: Any, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    member = await api.enrol(name="Ada")
    url = f"/internal/v1/members/{member['id']}/adjust"
    staff = tokens.headers(tokens.staff(tenant, role="staff"))
    manager = tokens.headers(tokens.staff(tenant, role="manager"))
    body = {"points": 40, "reason": "goodwill", "idempotency_key": "adj-1"}
    assert (await client.post(url, json=body, headers=staff)).status_code == 403
    credit = await client.post(url, json=body, headers=manager)
    assert (credit.status_code, credit.json()["balance"]["balance"]) == (200, 40)
    too_much = await client.post(
        url, json={**body, "points": -50, "idempotency_key": "adj-2"}, headers=manager
    )
    assert (too_much.json()["code"], too_much.json()["shortfall"]) == ("insufficient_points", 10)
    debit = await client.post(url, json={**body, "points": -15, "idempotency_key": "adj-3"}, headers=manager)
    assert debit.json()["balance"]["balance"] == 25
    undone = await api.reverse(debit.json()["transaction"]["id"])
    assert undone.json()["balance"]["balance"] == 40


async def test_a_stamps_program_earns_stamps_per_visit_through_the_same_ledger(
    client: Any, tokens: TestTokens, sessions: async_sessionmaker[AsyncSession]
) -> None:
    cafe = uuid.uuid4()
    await project(sessions, program(cafe, type_="stamps", points_per_unit=1, minimum_spend="3.00"))
    stamps = Api(client, tokens, cafe)
    member = await stamps.enrol(name="Ada")
    big = await stamps.earn(member["id"], amount={"value": "42.00", "currency": "EUR"})
    assert big.json()["transaction"]["points"] == 1
    small = await stamps.earn(member["id"], amount={"value": "2.00", "currency": "EUR"})
    assert (small.status_code, small.json()["code"]) == (422, "below_minimum_spend")
    await stamps.earn(member["id"], amount={"value": "3.00", "currency": "EUR"})
    assert (await stamps.member(member["id"])).json()["balance"] == 2


async def test_earning_before_the_program_is_known_is_a_clear_conflict(
    client: Any, tokens: TestTokens
) -> None:
    unknown = Api(client, tokens, uuid.uuid4())
    member = await unknown.enrol(name="Ada")
    r = await unknown.earn(member["id"], points=5)
    assert (r.status_code, r.json()["code"]) == (409, "program_unavailable")
