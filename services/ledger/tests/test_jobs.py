"""The worker's jobs: expiry (oldest first, only the unspent remainder, safe twice), reservation
timeouts and points-expiring notices (once per lot)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
from ledger_helpers import COFFEE, Api
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import decode_id, encode_id
from nujoomy_ledger.operations.expiry import notify_expiring, run_expiry, time_out_reservations
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def sql(db_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def age_lot(db_url: str, txn_id: str, expires: datetime) -> None:
    await sql(
        db_url,
        "UPDATE earn_lots SET expires_at = $2 WHERE transaction_id = $1",
        decode_id("txn", txn_id),
        expires,
    )


async def test_spends_draw_oldest_expiring_first_and_expiry_posts_only_the_remainder(
    api: Api, sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    member = await api.enrol(name="Ada")
    later = (await api.earn(member["id"], points=100)).json()["transaction"]["id"]
    sooner = (await api.earn(member["id"], points=100)).json()["transaction"]["id"]
    now = datetime.now(UTC)
    await age_lot(db_url, later, now + timedelta(days=90))
    await age_lot(db_url, sooner, now + timedelta(days=30))
    await api.redeem(member["id"], points=130)  # 100 from `sooner`, 30 from `later`
    lots = await sql(db_url, "SELECT transaction_id, remaining FROM earn_lots ORDER BY expires_at")
    assert [r["remaining"] for r in lots] == [0, 70]

    await age_lot(db_url, later, now - timedelta(seconds=1))
    assert await run_expiry(sessions, now) == 1
    assert await run_expiry(sessions, now) == 0  # safe to run twice
    body = (await api.member(member["id"])).json()
    assert body["balance"] == 0
    expired = await sql(db_url, "SELECT points FROM transactions WHERE kind = 'expire'")
    assert [r["points"] for r in expired] == [-70]


async def test_expiry_leaves_points_a_reservation_holds(
    api: Api, sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    member = await api.enrol(name="Ada")
    txn = (await api.earn(member["id"], points=150)).json()["transaction"]["id"]
    r = await api.client.post(
        f"/internal/v1/members/{member['id']}/reservations",
        json={"reward_id": encode_id("rwd", COFFEE), "idempotency_key": "r1"},
        headers=api.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["balance"] == {"balance": 150, "lifetime_points": 150, "reserved": 100, "available": 50}
    await age_lot(db_url, txn, datetime.now(UTC) - timedelta(seconds=1))
    await run_expiry(sessions, datetime.now(UTC))
    body = (await api.member(member["id"])).json()
    assert (body["balance"], body["reserved"]) == (100, 100)
    redeemed = await api.client.post(
        f"/internal/v1/reservations/{r.json()['id']}/redeem", headers=api.headers
    )
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["balance"] == {"balance": 0, "lifetime_points": 150, "reserved": 0, "available": 0}


async def test_reservations_pending_redeemed_or_voided_and_timed_out(
    api: Api, sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    member = await api.enrol(name="Ada")
    await api.earn(member["id"], points=250)
    url = f"/internal/v1/members/{member['id']}/reservations"
    body = {"reward_id": encode_id("rwd", COFFEE), "idempotency_key": "a"}
    first = (await api.client.post(url, json=body, headers=api.headers)).json()
    assert (await api.client.post(url, json=body, headers=api.headers)).json()["id"] == first["id"]
    second = (await api.client.post(url, json={**body, "idempotency_key": "b"}, headers=api.headers)).json()
    third = await api.client.post(url, json={**body, "idempotency_key": "c"}, headers=api.headers)
    assert (third.status_code, third.json()["code"], third.json()["shortfall"]) == (
        422,
        "insufficient_points",
        50,
    )

    voided = await api.client.post(f"/internal/v1/reservations/{first['id']}/void", headers=api.headers)
    assert voided.json()["status"] == "voided"
    assert voided.json()["balance"]["available"] == 150
    again = await api.client.post(f"/internal/v1/reservations/{first['id']}/redeem", headers=api.headers)
    assert (again.status_code, again.json()["code"]) == (409, "reservation_closed")

    await sql(
        db_url, "UPDATE reservations SET expires_at = now() - interval '1 minute' WHERE status = 'pending'"
    )
    assert await time_out_reservations(sessions, datetime.now(UTC)) == 1
    assert await time_out_reservations(sessions, datetime.now(UTC)) == 0
    state = (await api.member(member["id"])).json()
    assert (state["balance"], state["reserved"]) == (250, 0)
    late = await api.client.post(f"/internal/v1/reservations/{second['id']}/redeem", headers=api.headers)
    assert late.json()["code"] == "reservation_closed"
    events = Counter(r["routing_key"] for r in await sql(db_url, "SELECT routing_key FROM outbox"))
    assert (events["ledger.reward.issued"], events["ledger.reward.voided"]) == (2, 2)


async def test_points_expiring_notice_goes_out_once_per_lot(
    api: Api, sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    member = await api.enrol(name="Ada")
    soon = (await api.earn(member["id"], points=40)).json()["transaction"]["id"]
    await api.earn(member["id"], points=60)  # expires in 12 months: no notice yet
    await age_lot(db_url, soon, datetime.now(UTC) + timedelta(days=5))
    assert await notify_expiring(sessions, datetime.now(UTC), 14) == 1
    assert await notify_expiring(sessions, datetime.now(UTC), 14) == 0
    rows = await sql(db_url, "SELECT body FROM outbox WHERE routing_key = 'ledger.points.expiring'")
    assert len(rows) == 1
    assert b'"points":40' in rows[0]["body"]
    assert uuid.UUID(member["id"] and str(decode_id("mbr", member["id"]))).hex in rows[0][
        "body"
    ].decode().replace("-", "")


async def test_expiry_alongside_spends_settles_every_point_once(
    api: Api, sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    import asyncio

    member = await api.enrol(name="Ada")
    for _ in range(8):
        await api.earn(member["id"], points=10)
    await sql(db_url, "UPDATE earn_lots SET expires_at = now() - interval '1 second'")

    spends = [api.redeem(member["id"], points=3) for _ in range(12)]
    results = await asyncio.gather(
        run_expiry(sessions, datetime.now(UTC)), run_expiry(sessions, datetime.now(UTC)), *spends
    )

    statuses = Counter(r.status_code for r in results[2:])
    assert set(statuses) <= {200, 422}  # spent or refused for lack of points, never a 500
    spent = 3 * statuses[200]
    expired = -sum(
        r["points"] for r in await sql(db_url, "SELECT points FROM transactions WHERE kind = 'expire'")
    )
    assert spent + expired == 80  # every point either spent or expired, none twice
    body = (await api.member(member["id"])).json()
    assert body["balance"] == 0
    assert (await sql(db_url, "SELECT coalesce(sum(remaining), 0) AS r FROM earn_lots"))[0]["r"] == 0
