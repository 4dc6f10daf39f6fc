"""Webhook fan-out: 10,000 platform events to 3 endpoints (30,000 signed deliveries), time until the
receivers have every one.

What runs: one gateway worker process, as compose runs it (its consumer fans events out in
batches: one inbox insert and one statement for the event rows and their deliveries per batch;
its dispatcher claims due deliveries with SKIP LOCKED in 4 lanes, signs them per Standard Webhooks
v1 and POSTs them with the lean HTTP/1.1 client over keep-alive connections) in a subprocess,
against a scratch database and an exchange of its own; three receivers on one local asyncio HTTP
server (the partners, answering 200 at once) in this process; events published as a sibling's
relay would (persistent, confirms pipelined). The worker's CPU time per delivery is printed too.
The clock starts before the first publish and stops when the receivers have 30,000 distinct
(path, webhook-id) pairs.

Run: `uv run python -m bench gateway_webhooks` (or `make bench`); `--quick` for 1,000 events.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NAME = "gateway_webhooks"
DESCRIPTION = "10,000 events fanned out to 3 webhook endpoints: time to deliver all (goal < 30 s)"

ADMIN_URL = os.environ.get("NUJOOMY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("NUJOOMY_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672/")
ROOT = Path(__file__).resolve().parents[1]
TENANT = uuid.UUID("0193d5a0-0000-7000-8000-00000000ae00")
ENDPOINTS = 3


def work(db_url: str, exchange: str, prefix: str) -> None:
    """Child process: the gateway worker until terminated."""
    from nujoomy_messaging import run_until_signalled
    from nujoomy_partner_gateway.settings import load
    from nujoomy_partner_gateway.worker import build_worker

    settings = load(
        database_url=db_url,
        amqp_url=AMQP_URL,
        events_exchange=exchange,
        queue_prefix=prefix,
        dev_mode=True,  # the receivers listen on 127.0.0.1
        webhook_poll_seconds=0.05,
        db_pool_size=20,
        log_level="WARNING",
    )
    print("ready", flush=True)
    run_until_signalled(build_worker(settings))


class Receivers:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.requests = 0
        self.done = asyncio.Event()
        self.expected = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests += 1
                self.seen.add((path, headers["webhook-id"]))
                if len(self.seen) >= self.expected:
                    self.done.set()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


async def bench(quick: bool) -> None:
    import asyncpg
    from nujoomy_contracts import new_envelope
    from nujoomy_contracts.ledger import TRANSACTION_POSTED, TransactionPosted
    from nujoomy_kit.db import make_engine, make_sessionmaker, run_migrations, transaction, with_database
    from nujoomy_messaging import Topology
    from nujoomy_partner_gateway.db.webhooks import create_endpoint
    from nujoomy_partner_gateway.domain.signing import generate_secret

    events = 1_000 if quick else 10_000
    tag = uuid.uuid4().hex[:6]
    name = f"bench_gw_hooks_{tag}"
    topology = Topology(exchange=f"bench.{tag}.events", prefix=f"bench.{tag}.")
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    db_url = with_database(ADMIN_URL, name)
    await asyncio.to_thread(run_migrations, ROOT / "services" / "partner-gateway" / "migrations", db_url)
    receivers = Receivers()
    receivers.expected = events * ENDPOINTS
    server = await asyncio.start_server(receivers.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = make_engine(db_url, pool_size=1)
    async with transaction(make_sessionmaker(engine)) as session:
        for n in range(ENDPOINTS):
            await create_endpoint(
                session,
                TENANT,
                "live",
                url=f"http://127.0.0.1:{port}/partner-{n}",
                event_types=["*"],
                secret=generate_secret(),
            )
    await engine.dispose()
    child = subprocess.Popen(  # noqa: ASYNC220 - started once, before the clock
        [
            sys.executable,
            "-m",
            "bench.gateway_webhooks",
            "--work",
            db_url,
            topology.exchange,
            topology.prefix,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()
        await asyncio.sleep(3)  # the worker declares and binds its queue before the first publish
        envelopes: list[Any] = [
            new_envelope(
                TRANSACTION_POSTED,
                TransactionPosted(
                    transaction_id=uuid.uuid4(),
                    member_id=uuid.uuid4(),
                    kind="earn",
                    points=n % 50 + 1,
                    balance_after=n,
                    posted_at=datetime.now(UTC),
                ),
                tenant_id=TENANT,
                mode="live",
            )
            for n in range(events)
        ]
        load_before = os.getloadavg()[0]
        cpu_before = _cpu_seconds(child.pid)
        started = time.perf_counter()
        progress = asyncio.create_task(_progress(db_url, receivers, started))
        await publish(AMQP_URL, topology, envelopes)
        published = time.perf_counter() - started
        await asyncio.wait_for(receivers.done.wait(), 600)
        elapsed = time.perf_counter() - started
        progress.cancel()
        print(
            f"{events:,} events → {ENDPOINTS} endpoints = {len(receivers.seen):,} deliveries "
            f"({receivers.requests:,} requests) in {elapsed:.1f} s ({len(receivers.seen) / elapsed:,.0f}/s); "
            f"publishing took {published:.1f} s; goal < 30 s"
        )
        # The worker's own CPU per delivery: what fan-out + signing + sending + recording cost,
        # whatever else the machine runs (the wall-clock rate above is not, on a shared machine).
        cpu = _cpu_seconds(child.pid) - cpu_before
        print(
            f"worker process CPU: {cpu:.1f} s, {cpu / len(receivers.seen) * 1e6:.0f} µs per delivery; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
    finally:
        child.terminate()
        child.wait(30)
        server.close()
        conn = await asyncpg.connect(ADMIN_URL)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
        await _drop_topology(topology)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def publish(amqp_url: str, topology: Any, envelopes: list[Any]) -> None:
    """What a sibling's outbox relay does: persistent messages on the events exchange, publisher
    confirms pipelined (a window in flight, as the relay does), not awaited one by one."""
    import aio_pika
    from nujoomy_contracts import encode_envelope

    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await topology.declare_exchange(channel)
        for start in range(0, len(envelopes), 256):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            encode_envelope(envelope),
                            message_id=str(envelope.id),
                            type=envelope.type,
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=envelope.type,
                    )
                    for envelope in envelopes[start : start + 256]
                )
            )
    finally:
        await connection.close()


async def _progress(db_url: str, receivers: Receivers, started: float) -> None:
    """Every few seconds: deliveries created by the fan-out vs received by the partners."""
    import asyncpg
    from nujoomy_kit.db import plain_url

    conn = await asyncpg.connect(plain_url(db_url))
    try:
        while True:
            await asyncio.sleep(5)
            created = await conn.fetchval("SELECT count(*) FROM webhook_deliveries")
            print(
                f"  {time.perf_counter() - started:5.1f} s: {created:,} deliveries created, "
                f"{len(receivers.seen):,} received",
                flush=True,
            )
    finally:
        await conn.close()


async def _drop_topology(topology: Any) -> None:
    import aio_pika
    from nujoomy_partner_gateway.events.consumers import WEBHOOKS
    from nujoomy_partner_gateway.settings import load

    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        await topology.delete_consumer(channel, WEBHOOKS, len(load().webhook_schedule) + 10)
        await channel.exchange_delete(topology.exchange)
    finally:
        await connection.close()


def run(args: Any) -> Any:
    return bench(args.quick)


if __name__ == "__main__" and sys.argv[1] == "--work":
    work(sys.argv[2], sys.argv[3], sys.argv[4])
