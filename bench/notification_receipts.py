"""Notification receipts: 10,000 earn events → 10,000 receipts accepted by the SMTP sink.

Runs the real notification worker (outbox relay → RabbitMQ → consumer deciding and rendering each
receipt into PostgreSQL → sender over a pool of kept-open SMTP connections) against the SMTP sink
(aiosmtpd) in its own process, in a scratch database and exchange. 10,000 members, one earn each (so
the per-member daily cap does not interfere), consent given, no quiet hours for receipts.

Baseline in the same run: the same number of already-rendered messages sent with raw aiosmtplib over
the same number of connections to the same sink — the ceiling the sender could reach with no
database, broker or rendering at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import time
import uuid
from datetime import UTC, datetime

import aio_pika
import aiosmtplib
import asyncpg
import httpx
from nujoomy_contracts import encode_envelope, ledger, new_envelope
from nujoomy_kit.db import run_migrations, with_database
from nujoomy_notification.__main__ import MIGRATIONS
from nujoomy_notification.delivery.email import build_email
from nujoomy_notification.delivery.transport import Outgoing
from nujoomy_notification.settings import Settings, load
from nujoomy_notification.worker import build_worker

from bench.report import table

NAME = "notification_receipts"
DESCRIPTION = (
    "notification: earn events → receipts at the SMTP sink, msgs/s, vs raw aiosmtplib to the same sink"
)

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
TENANT = uuid.UUID("0193b000-0000-7000-8000-00000000be01")
CONNECTIONS = 8
CONCURRENCY = int(os.environ.get("BENCH_NOTIFICATION_CONCURRENCY", "16"))
# Worker processes: one in this process plus N-1 subprocesses, competing consumers on one queue.
WORKERS = int(os.environ.get("BENCH_NOTIFICATION_WORKERS", "1"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _sink():
    smtp, http = _free_port(), _free_port()
    argv = [
        sys.executable,
        "-m",
        "nujoomy_notification.fakes.smtp_sink",
        "--smtp-port",
        str(smtp),
        "--http-port",
        str(http),
    ]
    proc = await asyncio.create_subprocess_exec(*argv)
    url = f"http://127.0.0.1:{http}"
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            for _ in range(200):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/stats")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            yield smtp, url, client
        finally:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _received(client: httpx.AsyncClient, url: str) -> int:
    for _ in range(5):
        try:
            return int((await client.get(f"{url}/stats")).json()["received"])
        except httpx.HTTPError as exc:  # a busy sink answering late is not a failed run
            print(f"sink stats: {exc!r}; asking again", flush=True)
    return int((await client.get(f"{url}/stats")).json()["received"])


async def _wait_for(client: httpx.AsyncClient, url: str, total: int, timeout: float = 600) -> float:
    deadline = time.perf_counter() + timeout
    while await _received(client, url) < total:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {await _received(client, url)} of {total} arrived")
        await asyncio.sleep(0.05)
    return time.perf_counter()


async def baseline(smtp_port: int, url: str, client: httpx.AsyncClient, total: int) -> float:
    """Raw aiosmtplib: pre-rendered messages over CONNECTIONS kept-open connections."""
    before = await _received(client, url)
    emails = [
        build_email(
            Outgoing(
                message_id=f"msg_{i}",
                recipient=f"m{i}@example.com",
                subject="You earned 12 points",
                html="<p>You earned <strong>12</strong> points.</p>",
                text="You earned 12 points.",
            ),
            "Nujoomy <no-reply@nujoomy.dev>",
        )[0].as_bytes()
        for i in range(total)
    ]

    async def lane(chunk: list) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port, start_tls=False)
        await smtp.connect()
        for i, email in chunk:
            await smtp.sendmail("no-reply@nujoomy.dev", [f"m{i}@example.com"], email)
        await smtp.quit()

    started = time.perf_counter()
    numbered = list(enumerate(emails))
    await asyncio.gather(*(lane(numbered[i::CONNECTIONS]) for i in range(CONNECTIONS)))
    await _wait_for(client, url, before + total)
    return time.perf_counter() - started


async def _scratch() -> tuple[str, str]:
    name = f"bench_notification_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = with_database(ADMIN, name)
    await asyncio.to_thread(run_migrations, MIGRATIONS, url)
    return name, url


async def _seed(url: str, members: list[uuid.UUID]) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO tenants (tenant_id, mode, name, timezone, locale) VALUES ($1, 'live', 'Qahwa House', "
            "'Asia/Riyadh', 'en')",
            TENANT,
        )
        await conn.copy_records_to_table(
            "contacts",
            records=[
                (TENANT, "live", m, "Member", f"m{i}@example.com", "en", True) for i, m in enumerate(members)
            ],
            columns=["tenant_id", "mode", "member_id", "name", "email", "locale", "consent_email"],
        )
    finally:
        await conn.close()


async def _publish(url: str, members: list[uuid.UUID]) -> None:
    """The ledger's side: earn events committed into an outbox, 500 per transaction."""
    conn = await asyncpg.connect(url)
    try:
        for start in range(0, len(members), 500):
            rows = []
            for m in members[start : start + 500]:
                env = new_envelope(
                    ledger.TRANSACTION_POSTED,
                    ledger.TransactionPosted(
                        transaction_id=uuid.uuid4(),
                        member_id=m,
                        kind="earn",
                        points=12,
                        balance_after=12,
                        reference="bench",
                        posted_at=datetime.now(UTC),
                    ),
                    tenant_id=TENANT,
                    mode="live",
                )
                rows.append((env.id, f"member:{m}", env.type, encode_envelope(env)))
            await conn.copy_records_to_table(
                "outbox", records=rows, columns=["event_id", "aggregate", "routing_key", "body"]
            )
    finally:
        await conn.close()


async def pipeline(
    smtp_port: int, sink_url: str, client: httpx.AsyncClient, total: int
) -> tuple[float, float]:
    """Returns (seconds until every receipt row was decided, seconds until the sink had them all)."""
    name, url = await _scratch()
    try:
        return await _measure(url, smtp_port, sink_url, client, total)
    finally:
        admin = await asyncpg.connect(ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _measure(
    url: str, smtp_port: int, sink_url: str, client: httpx.AsyncClient, total: int
) -> tuple[float, float]:
    prefix = f"bench.{uuid.uuid4().hex[:8]}."
    members = [uuid.uuid4() for _ in range(total)]
    await _seed(url, members)
    settings = load(
        {},
        database_url=url,
        amqp_url=AMQP,
        events_exchange=f"{prefix}events",
        queue_prefix=prefix,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_starttls=False,
        smtp_connections=CONNECTIONS,
        quiet_start=0,
        quiet_end=0,
        sender_poll_s=0.05,
        consumer_concurrency=CONCURRENCY,
        # Each worker process holds up to this + 5 PostgreSQL connections (max_connections is shared).
        db_pool_size=CONCURRENCY + 2,
        log_level="WARNING",
    )
    worker = build_worker(settings)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.started.wait(), 30)
    extra = [await _spawn_worker(settings) for _ in range(WORKERS - 1)]
    await _until_consumers(f"{prefix}notification.events", WORKERS)
    before = await _received(client, sink_url)
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        await _publish(url, members)
        decided = 0.0
        while True:
            n = await conn.fetchval("SELECT count(*) FROM messages")
            if n >= total and not decided:
                decided = time.perf_counter() - started
            if await _received(client, sink_url) >= before + total:
                break
            await asyncio.sleep(0.05)
        delivered = time.perf_counter() - started
        # The sink has them all; the sender records the last batch's outcome just after.
        for _ in range(200):
            sent = await conn.fetchval("SELECT count(*) FROM messages WHERE status = 'sent'")
            if sent == total:
                break
            await asyncio.sleep(0.05)
        assert sent == total, f"{sent} of {total} rows marked sent"
        return decided or delivered, delivered
    finally:
        await conn.close()
        for proc in extra:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 30)
        worker.stop()
        await asyncio.wait_for(task, 30)


async def _spawn_worker(settings: Settings) -> asyncio.subprocess.Process:
    p = "NUJOOMY_NOTIFICATION_"
    env = {
        **os.environ,
        f"{p}DATABASE_URL": settings.database_url,
        f"{p}AMQP_URL": settings.amqp_url,
        f"{p}EVENTS_EXCHANGE": settings.events_exchange,
        f"{p}QUEUE_PREFIX": settings.queue_prefix,
        f"{p}SMTP_HOST": settings.smtp_host,
        f"{p}SMTP_PORT": str(settings.smtp_port),
        f"{p}SMTP_STARTTLS": "false",
        f"{p}SMTP_CONNECTIONS": str(settings.smtp_connections),
        f"{p}QUIET_START": "0",
        f"{p}QUIET_END": "0",
        f"{p}SENDER_POLL_S": str(settings.sender_poll_s),
        f"{p}CONSUMER_CONCURRENCY": str(settings.consumer_concurrency),
        f"{p}DB_POOL_SIZE": str(settings.db_pool_size),
        f"{p}LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nujoomy_notification", "worker", env=env
    )


async def _until_consumers(queue: str, count: int) -> None:
    conn = await aio_pika.connect(AMQP)
    try:
        channel = await conn.channel()
        for _ in range(600):
            declared = await channel.declare_queue(queue, passive=True)
            if declared.declaration_result.consumer_count >= count:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{queue} never had {count} consumers")
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    total = 1_000 if getattr(args, "quick", False) else 10_000
    async with _sink() as (smtp_port, sink_url, client):
        raw = await baseline(smtp_port, sink_url, client, total)
        decided, delivered = await pipeline(smtp_port, sink_url, client, total)
    table(
        ["what", "messages", "seconds", "msgs/s"],
        [
            [
                f"baseline: raw aiosmtplib, {CONNECTIONS} connections",
                total,
                f"{raw:.2f}",
                f"{total / raw:.0f}",
            ],
            ["events → receipt rows decided (consumer)", total, f"{decided:.2f}", f"{total / decided:.0f}"],
            [
                "events → receipts at the sink (end to end)",
                total,
                f"{delivered:.2f}",
                f"{total / delivered:.0f}",
            ],
        ],
    )
    print(
        f"worker processes: {WORKERS}, consumer concurrency each: {CONCURRENCY}; goal: ≥ 200 receipts/s end to end"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    asyncio.run(run(parser.parse_args()))
