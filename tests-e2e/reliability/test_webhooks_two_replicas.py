"""Webhooks end to end with two of everything: two gateway API replicas (the partner load split across
them, retries with the same Idempotency-Key possibly landing on the other one), two gateway worker
processes and two ledger worker processes (competing consumers, one relay each per database), the
REAL ledger API behind them. The partner's endpoint (a local receiver) is down, then slow, then up;
meanwhile one gateway worker is SIGKILLed and restarted and RabbitMQ is cut for every worker. The
checker proves: every member enrolment and every ledger transaction became exactly one webhook event
(no loss, no double effect from two replicas), every webhook event reached the receiver with a 2xx
exactly once per `webhook-id`, the ledger sums to zero and each balance the partner API shows equals
the ledger. (wallet-pass is not running here: enrolments answer without wallet links, as designed.)
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import httpx
import pytest
from nujoomy_kit.db import plain_url
from nujoomy_messaging import Topology
from nujoomy_testing import TcpProxy, eventually
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from ..gateway_limits import raise_limits  # noqa: TID252
from .receiver import Receiver
from .system import Worker, project

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("system"), pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
LONG = os.environ.get("NUJOOMY_CHAOS_SCALE") == "long"
MEMBERS = 12 if LONG else 4
ROUNDS = 30 if LONG else 5
DOWN_S = 20.0 if LONG else 2.0  # below the gateway's first retry delay (5 s) in the short run


async def _queue_ready(amqp_url: str, name: str) -> bool:
    """The consumer's queue exists (declared by a worker): events published from now on are kept."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        try:
            await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return False
        return True
    finally:
        await connection.close()


async def _rows(db: str, sql: str) -> int:
    conn = await asyncpg.connect(plain_url(db))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_every_event_reaches_the_partner_once_with_two_replicas_of_everything(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
    tmp_path: Path,
) -> None:
    from nujoomy_ledger.app import build_app as build_ledger
    from nujoomy_ledger.settings import load as load_ledger
    from nujoomy_partner_gateway.app import build_app as build_gateway
    from nujoomy_partner_gateway.settings import load as load_gateway

    ledger_db = await make_db("ledger", ROOT / "services" / "ledger" / "migrations")
    gateway_db = await make_db("partner-gateway", ROOT / "services" / "partner-gateway" / "migrations")
    tenant = uuid.uuid4()
    await project(ledger_db, tenant)
    broker = urlsplit(amqp_url)
    proxy = await TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672).start()
    common = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NUJOOMY_")},
        "NUJOOMY_AMQP_URL": proxy.url_for(amqp_url),
        "NUJOOMY_REDIS_URL": redis_url,
        "NUJOOMY_EVENTS_EXCHANGE": topology.exchange,
        "NUJOOMY_QUEUE_PREFIX": topology.prefix,
        "NUJOOMY_INTERNAL_KEYSET": tokens.keyset,
        "NUJOOMY_LOG_JSON": "false",
        "NUJOOMY_DEV_MODE": "true",  # the partner's receiver listens on 127.0.0.1
    }
    ledger_env = {**common, "NUJOOMY_DATABASE_URL": ledger_db, "NUJOOMY_REDIS_PREFIX": redis_prefix + "l:"}
    gateway_env = {
        **common,
        "NUJOOMY_DATABASE_URL": gateway_db,
        "NUJOOMY_REDIS_PREFIX": redis_prefix + "g:",
        "NUJOOMY_INTERNAL_PRIVATE_KEY": tokens.private_pems["partner-gateway"],
        "NUJOOMY_WEBHOOK_POLL_SECONDS": "0.1",
        # The production ladder waits minutes after the second failure; the long outage (20 s) and
        # the killed worker's leases must settle within the check's timeout.
        "NUJOOMY_WEBHOOK_SCHEDULE": "0,1,2,4,8,15,30,60",
        "NUJOOMY_WEBHOOK_LEASE_SECONDS": "20",
    }
    workers = [Worker("nujoomy_ledger", ledger_env, tmp_path / f"ledger{i}.log") for i in range(2)]
    gw_workers = [Worker("nujoomy_partner_gateway", gateway_env, tmp_path / f"gw{i}.log") for i in range(2)]
    receiver = Receiver()
    receiver.slow_s = 1.0
    failed: Counter[str] = Counter()
    requests = 0
    try:
        for w in (*workers, *gw_workers):
            w.start()
        queue = topology.queue("partner-gateway.webhooks")
        await eventually(lambda: _queue_ready(amqp_url, queue), bool, timeout=60, interval=0.5)
        async with (
            served(build_ledger(load_ledger(ledger_env), verifier=tokens.verifier("ledger"))) as ledger_url,
            served(receiver) as receiver_url,
        ):
            gateway_settings = load_gateway({**gateway_env, "NUJOOMY_LEDGER_URL": ledger_url})
            async with (
                served(build_gateway(gateway_settings, verifier=tokens.verifier("partner-gateway"))) as gw1,
                served(build_gateway(gateway_settings, verifier=tokens.verifier("partner-gateway"))) as gw2,
            ):
                replicas = [httpx.AsyncClient(base_url=u, timeout=20) for u in (gw1, gw2)]
                staff = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
                made = await replicas[0].post("/internal/v1/api_keys", json={"name": "load"}, headers=staff)
                secret = made.json()["secret"]
                await raise_limits(gateway_db, secret, rate=1000, burst=1000, max_in_flight=1000)
                key = {"Authorization": f"Bearer {secret}"}
                hook = await replicas[1].post(
                    "/v1/webhook_endpoints",
                    json={"url": f"{receiver_url}/hook", "event_types": ["*"]},
                    headers=key,
                )
                assert hook.status_code == 201, hook.text

                async def call(i: int, path: str, json: Any, idem: str) -> httpx.Response | None:
                    nonlocal requests
                    for attempt in range(20):  # retries alternate replicas, same Idempotency-Key
                        requests += 1
                        client = replicas[(i + attempt) % 2]
                        try:
                            r = await client.post(path, json=json, headers={**key, "Idempotency-Key": idem})
                        except httpx.HTTPError as exc:
                            failed[type(exc).__name__] += 1
                            continue
                        if r.status_code < 500 and r.status_code != 409:
                            return r
                        failed[str(r.status_code)] += 1
                        await asyncio.sleep(0.2)
                    return None

                members = []
                for i in range(MEMBERS):
                    r = await call(i, "/v1/members", {"name": f"M{i}"}, f"enrol-{i}")
                    assert r is not None
                    assert r.status_code == 201, r.text
                    members.append(r.json()["id"])

                async def load() -> None:
                    for n in range(ROUNDS):
                        await asyncio.gather(
                            *(
                                call(
                                    i + n,
                                    f"/v1/members/{m}/{'redeem' if n % 3 == 2 else 'earn'}",
                                    {"points": 4},
                                    f"{m}-{n}",
                                )
                                for i, m in enumerate(members)
                            )
                        )
                        await asyncio.sleep(DOWN_S / ROUNDS)

                started = time.monotonic()
                receiver.mode = "down"
                load_task = asyncio.create_task(load())
                await asyncio.sleep(DOWN_S / 2)
                gw_workers[0].kill()  # mid-delivery: leases expire, the other replica takes over
                proxy.drop()  # and the broker goes away for every worker at once
                await asyncio.sleep(DOWN_S / 2)
                proxy.restore()
                gw_workers[0].start()
                receiver.mode = "slow"
                await load_task
                receiver.mode = "up"

                async def expected() -> int:
                    return await _rows(ledger_db, "SELECT count(*) FROM transactions") + MEMBERS

                async def delivered() -> tuple[int, int, int]:
                    events = await _rows(gateway_db, "SELECT count(*) FROM webhook_events")
                    done = await _rows(
                        gateway_db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"
                    )
                    return events, done, len({wid for wid, _, _ in receiver.ok})

                want = await expected()
                final = await eventually(
                    delivered, lambda r: r == (want, want, want), timeout=120 if LONG else 60
                )
                converge = time.monotonic() - started
                balances = {}
                for m in members:
                    balances[m] = (await replicas[0].get(f"/v1/members/{m}", headers=key)).json()["balance"]
                for client in replicas:
                    await client.aclose()
    finally:
        for w in (*workers, *gw_workers):
            w.stop()
        proxy.drop()
    conn = await asyncpg.connect(plain_url(ledger_db))
    try:
        unbalanced = await conn.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM postings GROUP BY tenant_id, mode HAVING sum(amount) <> 0) s"
        )
        ledger_balances = dict(
            await conn.fetch(
                "SELECT m.id, b.balance FROM balances b JOIN accounts a ON a.id = b.account_id"
                " JOIN members m ON m.id = a.member_id"
            )
        )
    finally:
        await conn.close()
    twice = [wid for wid, n in Counter(wid for wid, _, _ in receiver.ok).items() if n > 1]
    print(f"\n{'fault':<46}{'requests':>9}  {'failed':<20}{'lost':>5}{'dup':>5}{'converge s':>11}")
    print(
        f"{'webhook down+slow, worker SIGKILL, broker cut':<46}{requests:>9}  {dict(failed) or '-'!s:<20}"
        f"{want - final[2]:>5}{len(twice):>5}{converge:>11.1f}"
    )
    print(
        f"receiver: {len(receiver.ok)} 2xx for {len({w for w, _, _ in receiver.ok})} webhook-ids, "
        f"{receiver.refused} refused"
    )
    assert receiver.refused > 0  # the outage was real: deliveries were attempted and refused
    assert not twice
    assert unbalanced == 0
    assert sorted(balances.values()) == sorted(ledger_balances.values())
