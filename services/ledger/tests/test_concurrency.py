"""Concurrency on real PostgreSQL: no balance below zero, one transaction per idempotency key."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from ledger_helpers import Api
from nujoomy_kit.db import plain_url


async def count(db_url: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def test_100_concurrent_redeems_of_100_on_1000_exactly_10_succeed(api: Api, db_url: str) -> None:
    member = await api.enrol(name="Ada")
    assert (await api.earn(member["id"], points=1000)).status_code == 200

    answers = await asyncio.gather(*(api.redeem(member["id"], points=100) for _ in range(100)))

    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 10
    assert statuses.count(422) == 90
    assert {r.json()["code"] for r in answers if r.status_code == 422} == {"insufficient_points"}
    assert {r.json()["shortfall"] for r in answers if r.status_code == 422} == {100}
    assert (await api.member(member["id"])).json()["balance"] == 0
    assert await count(db_url, "SELECT count(*) FROM transactions WHERE kind = 'redeem'") == 10


async def test_50_concurrent_requests_with_one_key_make_one_transaction(api: Api, db_url: str) -> None:
    member = await api.enrol(name="Ada")
    key = uuid.uuid4().hex

    answers = await asyncio.gather(
        *(api.earn(member["id"], points=7, idempotency_key=key) for _ in range(50))
    )

    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["transaction"]["id"] for r in answers}) == 1
    assert sum(1 for r in answers if not r.json()["replayed"]) == 1
    assert (await api.member(member["id"])).json()["balance"] == 7
    assert await count(db_url, "SELECT count(*) FROM transactions") == 1
    # One transaction, so one posted event and one balance change in the outbox.
    assert (
        await count(db_url, "SELECT count(*) FROM outbox WHERE routing_key = 'ledger.transaction.posted'")
        == 1
    )


async def test_concurrent_spends_of_one_key_across_redeems_are_one_spend(api: Api) -> None:
    member = await api.enrol(name="Ada")
    await api.earn(member["id"], points=300)
    key = uuid.uuid4().hex
    answers = await asyncio.gather(
        *(api.redeem(member["id"], points=100, idempotency_key=key) for _ in range(20))
    )
    assert {r.status_code for r in answers} == {200}
    assert (await api.member(member["id"])).json()["balance"] == 200
