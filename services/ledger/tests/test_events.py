"""Every transaction emits its events once, through the outbox; a rolled-back one emits none; the
worker projects the tenant's program from RabbitMQ and relays the ledger's events to it."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
import pytest
from ledger_helpers import CAKE, Api, program
from nujoomy_contracts import decode_data, decode_envelope, encode_envelope, new_envelope
from nujoomy_contracts.tenant import PROGRAM_UPDATED
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import decode_id, encode_id
from nujoomy_ledger.db.members import MemberRow
from nujoomy_ledger.operations import members, points
from nujoomy_ledger.operations.scope import Scope
from nujoomy_ledger.settings import Settings
from nujoomy_ledger.worker import build_worker
from nujoomy_messaging import Topology
from nujoomy_testing import eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def outbox(db_url: str) -> list[Any]:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        rows = await conn.fetch("SELECT routing_key, body FROM outbox ORDER BY seq")
    finally:
        await conn.close()
    decoded = []
    for row in rows:
        raw = decode_envelope(row["body"])
        decoded.append((row["routing_key"], decode_data(raw.type, raw.version, raw.data)))
    return decoded


async def test_each_transaction_emits_posted_and_balance_changed_once(api: Api, db_url: str) -> None:
    member = await api.enrol(name="Ada", email="ada@example.com")
    earned = (await api.earn(member["id"], points=300, idempotency_key="e1")).json()
    await api.earn(member["id"], points=300, idempotency_key="e1")  # a replay emits nothing
    await api.redeem(member["id"], reward_id=encode_id("rwd", CAKE))
    await api.reverse(earned["transaction"]["id"])
    await api.redeem(member["id"], points=10_000)  # refused: emits nothing

    events = await outbox(db_url)
    kinds = Counter(key for key, _ in events)
    assert kinds == {
        "ledger.member.enrolled": 1,
        "ledger.transaction.posted": 3,
        "ledger.balance.changed": 3,
        "ledger.reward.redeemed": 1,
    }
    enrolled = next(data for key, data in events if key == "ledger.member.enrolled")
    assert enrolled.card_token == member["card_token"]
    assert enrolled.member.email == "ada@example.com"
    posted = [data for key, data in events if key == "ledger.transaction.posted"]
    assert [(p.kind, p.points, p.balance_after) for p in posted] == [
        ("earn", 300, 300),
        ("redeem", -250, 50),
        ("reverse", -300, -250),
    ]
    changed = [data for key, data in events if key == "ledger.balance.changed"]
    assert [c.sequence for c in changed] == [1, 2, 3]
    assert [c.balance for c in changed] == [300, 50, -250]
    assert [c.lifetime_points for c in changed] == [300, 300, 0]


async def test_a_rolled_back_transaction_leaves_no_rows_and_no_events(
    api: Api, sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID, db_url: str
) -> None:
    member = await api.enrol(name="Ada")
    before = len(await outbox(db_url))
    scope = Scope(tenant_id=tenant, mode="live")
    member_id = decode_id("mbr", member["id"])

    class Abort(Exception):
        pass

    async def earn_then_fail() -> None:
        async with sessions() as session, session.begin():
            who = points.Who(member_id=member_id)
            await points.earn(session, scope, who, key="lost", points=5, now=datetime.now(UTC))
            raise Abort

    with pytest.raises(Abort):
        await earn_then_fail()

    assert len(await outbox(db_url)) == before
    assert (await api.member(member["id"])).json()["balance"] == 0
    # The key was never used: the same request now posts for real.
    assert (await api.earn(member["id"], points=5, idempotency_key="lost")).json()["replayed"] is False


async def test_worker_projects_the_program_and_relays_ledger_events(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    topology: Topology,
    amqp_url: str,
    tenant: uuid.UUID,
) -> None:
    worker = build_worker(settings)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.started.wait(), 15)
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        exchange = await topology.declare_exchange(channel)
        seen = await channel.declare_queue(exclusive=True)
        await seen.bind(exchange, routing_key="ledger.#")
        for mode in ("live", "test"):
            event = new_envelope(PROGRAM_UPDATED, program(tenant, version=4), tenant_id=tenant, mode=mode)
            await exchange.publish(aio_pika.Message(encode_envelope(event)), routing_key=PROGRAM_UPDATED)

        async def projected() -> list[Any]:
            async with sessions() as session:
                return list(await session.execute(text("SELECT mode, version FROM programs ORDER BY mode")))

        rows = await eventually(projected, lambda r: len(r) == 2)
        assert [(r.mode, r.version) for r in rows] == [("live", 4), ("test", 4)]

        # A late, older version is consumed (it reaches the inbox) and changes nothing.
        stale = new_envelope(PROGRAM_UPDATED, program(tenant, version=3), tenant_id=tenant, mode="live")
        await exchange.publish(aio_pika.Message(encode_envelope(stale)), routing_key=PROGRAM_UPDATED)

        async def applied() -> int:
            async with sessions() as session:
                return int((await session.execute(text("SELECT count(*) FROM inbox"))).scalar_one())

        await eventually(applied, lambda n: n == 3)
        assert [(r.mode, r.version) for r in await projected()] == [("live", 4), ("test", 4)]

        scope = Scope(tenant_id=tenant, mode="live")
        async with sessions() as session, session.begin():
            member: MemberRow = await members.enrol(session, scope, {"name": "Ada"})
            await points.earn(
                session, scope, points.Who(member_id=member.id), key="k", points=9, now=datetime.now(UTC)
            )

        received: list[str] = []

        async def drain() -> list[str]:
            message = await seen.get(fail=False, no_ack=True)
            if message is not None:
                received.append(decode_envelope(message.body).type)
            return received

        await eventually(drain, lambda r: len(r) >= 3, interval=0.02)
        assert Counter(received) == {
            "ledger.member.enrolled": 1,
            "ledger.transaction.posted": 1,
            "ledger.balance.changed": 1,
        }
    finally:
        await connection.close()
        worker.stop()
        await asyncio.wait_for(task, 15)
