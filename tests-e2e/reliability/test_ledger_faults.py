"""The ledger under faults, as processes: its API plus TWO worker processes (`python -m nujoomy_ledger
worker`, competing consumers and outbox relays), RabbitMQ reached through a TcpProxy this test cuts.
Load: earns and redeems over HTTP for a set of members. Faults, one at a time: the broker cut for a
few seconds; one worker SIGKILLed mid-load and restarted. A subscriber on the events exchange records
every message. The checker proves: postings sum to zero per (tenant, mode), no balance is negative,
every ledger transaction reached the exchange (no event lost) under exactly one event id (no double
effect), and every member's newest balance event equals the database. Transport redeliveries of the
SAME event id (at-least-once; consumers' inboxes drop them) are counted and printed, not failed.

This is the ledger slice of the reliability suite; the other services, the webhook receiver,
the APNs/Google fakes and the gateway replicas are not in it yet (see the report / docs/scaling.md).
NUJOOMY_CHAOS_SCALE=long makes the load and the faults longer.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import httpx
import msgspec
import pytest
from nujoomy_contracts import decode_envelope
from nujoomy_kit.db import plain_url
from nujoomy_messaging import Topology
from nujoomy_testing import TcpProxy, eventually
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .system import Worker, project

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("system"),
    pytest.mark.timeout(1800 if os.environ.get("NUJOOMY_CHAOS_SCALE") == "long" else 300),
]

ROOT = Path(__file__).resolve().parents[2]
LONG = os.environ.get("NUJOOMY_CHAOS_SCALE") == "long"
MEMBERS = 20 if LONG else 6
ROUNDS = 40 if LONG else 8  # earns (and every 4th a redeem) per member per fault phase
OUTAGE_S = 30.0 if LONG else 3.0
PACE_S = OUTAGE_S / ROUNDS


class FreshToken(httpx.Auth):
    def __init__(self, mint: Callable[[], str]) -> None:
        self._mint = mint

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self._mint()}"
        yield request


class Tally(msgspec.Struct):
    fault: str
    requests: int = 0
    failed: dict[str, int] = msgspec.field(default_factory=dict)
    converge_s: float = 0.0
    result: dict[str, int] = msgspec.field(default_factory=dict)
    evidence: str = ""  # what shows the fault really bit


class Observed(msgspec.Struct):
    deliveries: int = 0
    by_id: dict[str, tuple[str, dict[str, Any]]] = msgspec.field(default_factory=dict)


def converged(result: dict[str, int]) -> bool:
    return result["outbox"] == 0 and result["lost"] == 0 and result["stale balances"] == 0


@pytest.fixture
async def observed(amqp_url: str, topology: Topology) -> AsyncIterator[Observed]:
    """Every message on the events exchange (bound straight to the broker, not through the proxy)."""
    seen = Observed()
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await topology.declare_exchange(channel)
    queue = await channel.declare_queue(f"{topology.prefix}observer", auto_delete=True)
    await queue.bind(exchange, routing_key="#")

    async def record(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            envelope = decode_envelope(message.body)
            seen.deliveries += 1
            seen.by_id[str(envelope.id)] = (envelope.type, msgspec.json.decode(envelope.data))

    await queue.consume(record)
    yield seen
    await connection.close()


async def _load(http: httpx.AsyncClient, members: list[str], tally: Tally) -> None:
    async def one(mid: str, i: int) -> None:
        kind, body = ("redeem", {"points": 3}) if i % 4 == 3 else ("earn", {"points": 5})
        for _attempt in range(20):  # a client retrying with the SAME idempotency key
            tally.requests += 1
            try:
                r = await http.post(
                    f"/internal/v1/members/{mid}/{kind}",
                    json={**body, "idempotency_key": f"{mid}-{tally.fault}-{i}"},
                )
            except httpx.HTTPError as exc:
                tally.failed[type(exc).__name__] = tally.failed.get(type(exc).__name__, 0) + 1
                await asyncio.sleep(0.2)
                continue
            if r.status_code == 200 or (r.status_code == 422 and kind == "redeem"):
                return
            tally.failed[str(r.status_code)] = tally.failed.get(str(r.status_code), 0) + 1
            await asyncio.sleep(0.2)

    for i in range(ROUNDS):
        await asyncio.gather(*(one(mid, i) for mid in members))
        await asyncio.sleep(PACE_S)  # spread the load over the fault window


async def _check(db: str, seen: Observed) -> dict[str, int]:
    conn = await asyncpg.connect(plain_url(db))
    try:
        unbalanced = await conn.fetch(
            "SELECT tenant_id, mode FROM postings GROUP BY 1, 2 HAVING sum(amount) <> 0"
        )
        negative = await conn.fetchval("SELECT count(*) FROM balances WHERE balance < 0")
        txns = {str(r[0]) for r in await conn.fetch("SELECT id FROM transactions")}
        balances = {
            str(r[0]): int(r[1])
            for r in await conn.fetch(
                "SELECT member_id, balance FROM balances b JOIN accounts a ON a.id = b.account_id"
                " WHERE a.kind = 'member'"
            )
        }
        outbox = await conn.fetchval("SELECT count(*) FROM outbox")
    finally:
        await conn.close()
    posted: dict[str, list[str]] = {}
    newest: dict[str, tuple[int, int]] = {}
    for event_id, (type_, data) in list(seen.by_id.items()):
        if type_ == "ledger.transaction.posted":
            posted.setdefault(str(data["transaction_id"]), []).append(event_id)
        if type_ == "ledger.balance.changed":
            member, seq = str(data["member_id"]), int(data["sequence"])
            if seq > newest.get(member, (-1, 0))[0]:
                newest[member] = (seq, int(data["balance"]))
    lost = txns - set(posted)
    twice = [t for t, ids in posted.items() if len(ids) > 1]
    stale = [m for m, b in balances.items() if newest.get(m, (0, None))[1] != b]
    return {
        "unbalanced ledgers": len(unbalanced),
        "negative balances": int(negative),
        "outbox": int(outbox),
        "transactions": len(txns),
        "lost": len(lost),
        "duplicate effects": len(twice),
        "stale balances": len(stale),
    }


async def test_ledger_survives_broker_cut_and_worker_sigkill_with_two_workers(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
    observed: Observed,
    tmp_path: Path,
) -> None:
    from nujoomy_ledger.app import build_app
    from nujoomy_ledger.settings import load

    db = await make_db("ledger", ROOT / "services" / "ledger" / "migrations")
    tenant = uuid.uuid4()
    await project(db, tenant)
    broker = urlsplit(amqp_url)
    proxy = await TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672).start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NUJOOMY_")},
        "NUJOOMY_DATABASE_URL": db,
        "NUJOOMY_AMQP_URL": proxy.url_for(amqp_url),
        "NUJOOMY_REDIS_URL": redis_url,
        "NUJOOMY_REDIS_PREFIX": redis_prefix,
        "NUJOOMY_EVENTS_EXCHANGE": topology.exchange,
        "NUJOOMY_QUEUE_PREFIX": topology.prefix,
        "NUJOOMY_INTERNAL_KEYSET": tokens.keyset,
        "NUJOOMY_INTERNAL_PRIVATE_KEY": tokens.private_pems["ledger"],
        "NUJOOMY_LOG_JSON": "false",
    }
    workers = [Worker("nujoomy_ledger", env, tmp_path / f"worker{i}.log") for i in range(2)]
    for w in workers:
        w.start()
    settings = load(env)
    tallies: list[Tally] = []
    try:
        async with served(build_app(settings, verifier=tokens.verifier())) as url:
            # A token per request: internal tokens live 60 s and the long run takes minutes.
            fresh = FreshToken(lambda: tokens.internal(tenant, mode="test"))
            async with httpx.AsyncClient(base_url=url, auth=fresh, timeout=15) as http:
                members = []
                for i in range(MEMBERS):
                    r = await http.post("/internal/v1/members", json={"name": f"M{i}"})
                    assert r.status_code == 201, r.text
                    members.append(r.json()["id"])

                async def phase(name: str, fault: Any) -> None:
                    tally = Tally(name)
                    tallies.append(tally)
                    load_task = asyncio.create_task(_load(http, members, tally))
                    tally.evidence = await fault()
                    await load_task
                    started = time.monotonic()
                    await eventually(
                        lambda: _check(db, observed),
                        converged,
                        timeout=120,
                        interval=0.5,
                    )
                    tally.converge_s = time.monotonic() - started
                    tally.result = await _check(db, observed)

                async def outbox() -> int:
                    conn = await asyncpg.connect(plain_url(db))
                    try:
                        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
                    finally:
                        await conn.close()

                async def no_fault() -> str:
                    return "-"

                async def broker_cut() -> str:
                    await asyncio.sleep(PACE_S)
                    proxy.drop()
                    # The cut bites: committed events pile up in the outbox while the broker is away.
                    piled = await eventually(outbox, lambda n: n >= MEMBERS, timeout=OUTAGE_S + 10)
                    await asyncio.sleep(max(0.0, OUTAGE_S - PACE_S))
                    proxy.restore()
                    return f"outbox held {piled}"

                async def worker_sigkill() -> str:
                    # Both in turn, so the one holding the relay lock and consuming is killed for sure.
                    for w in workers:
                        await asyncio.sleep(OUTAGE_S / 3)
                        w.kill()
                        await asyncio.sleep(OUTAGE_S / 3)
                        w.start()
                    return "2 kills"

                await phase("none (baseline)", no_fault)
                await phase(f"broker cut {OUTAGE_S:.0f} s", broker_cut)
                await phase("worker SIGKILL + restart", worker_sigkill)
                result = await _check(db, observed)
    finally:
        for w in workers:
            w.stop()
        proxy.drop()
    head = f"{'fault':<28}{'requests':>9}  {'failed (with what)':<24}{'lost':>5}{'dup effects':>12}"
    print(f"\n{head}{'converge s':>11}  evidence")
    for t in tallies:
        r = t.result
        failed = str(t.failed or "-")
        print(
            f"{t.fault:<28}{t.requests:>9}  {failed:<24}{r['lost']:>5}{r['duplicate effects']:>12}"
            f"{t.converge_s:>11.1f}  {t.evidence}"
        )
    print(f"total: {result}; broker deliveries {observed.deliveries} for {len(observed.by_id)} event ids")
    assert result["unbalanced ledgers"] == 0
    assert result["negative balances"] == 0
    assert result["lost"] == 0
    assert result["duplicate effects"] == 0
    assert result["stale balances"] == 0
    assert result["transactions"] >= 3 * ROUNDS * MEMBERS * 3 // 4  # the earns (redeems may be refused)
