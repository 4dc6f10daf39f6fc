"""What the wallet benchmarks share: a scratch database, the fakes in-process, a seeded program with
installed passes (bulk SQL with the same ids the service derives), and a running worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MIGRATIONS = Path(__file__).resolve().parents[1] / "services/wallet-pass/migrations"
TENANT = uuid.UUID("0190f000-0000-7000-8000-0000000be001")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-0000000be002")


@dataclass
class Rig:
    settings: Any
    apns_control: str
    google_url: str
    members: list[uuid.UUID]
    tokens: dict[uuid.UUID, str]
    # name -> process (the fakes and the worker processes), for CPU accounting
    processes: dict[str, subprocess.Popen[bytes]]

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU each process has used so far (Linux /proc): what the work costs,
        whatever else the machine is doing."""
        tick = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, proc in self.processes.items():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[name] = (int(fields[11]) + int(fields[12])) / tick
        return used


def worker_shapes() -> dict[str, dict[str, str]]:
    """The worker processes to start, by name, with their settings (none starts a hidden child).
    WALLET_BENCH_PROCESSES=2 (default) is what `python -m nujoomy_wallet_pass worker` runs under
    `make up`: the consumers in one process, the Apple and Google runners in another.
    1: everything in one process; 3: consumers | Apple runner | Google runner."""
    base = {"NUJOOMY_WALLET_PASS_WORKER_SPLIT": "false"}
    consumers = {
        **base,
        "NUJOOMY_WALLET_PASS_WORKER_SYNC": "false",
        "NUJOOMY_WALLET_PASS_WORKER_GOOGLE": "false",
    }
    runners = {**base, "NUJOOMY_WALLET_PASS_WORKER_CONSUMERS": "false"}
    processes = os.environ.get("WALLET_BENCH_PROCESSES", "2")
    if processes == "1":
        return {"worker": base}
    if processes == "3":
        return {
            "worker: consumers": consumers,
            "worker: apple runner": {**runners, "NUJOOMY_WALLET_PASS_WORKER_GOOGLE": "false"},
            "worker: google runner": {**runners, "NUJOOMY_WALLET_PASS_WORKER_SYNC": "false"},
        }
    return {"worker: consumers": consumers, "worker: runners": runners}


def bench_program(version: int, color: str, branding_version: str) -> Any:
    from nujoomy_contracts.tenant import Branding, EarnRule, ExpiryPolicy, Program, Tenant, Wording

    return Program(
        program_id=PROGRAM,
        tenant_id=TENANT,
        version=version,
        type="points",
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=1),
        rewards=[],
        expiry=ExpiryPolicy(),
        wording=Wording(balance_label="Points", program_name="Bench Club"),
        branding=Branding(
            background_color=color,
            foreground_color="#FFFFFF",
            label_color="#EEEEEE",
            version=branding_version,
        ),
        tenant=Tenant(
            tenant_id=TENANT,
            slug="bench",
            name="Bench",
            locale="en",
            timezone="UTC",
            currency="EUR",
            status="active",
        ),
    )


async def _seed(settings: Any, google_url: str, count: int) -> tuple[list[uuid.UUID], dict[uuid.UUID, str]]:
    import httpx
    from nujoomy_contracts import new_envelope
    from nujoomy_contracts.tenant import PROGRAM_UPDATED
    from nujoomy_kit.db import make_engine, make_sessionmaker, plain_url
    from nujoomy_wallet_pass.db.programs import branding_version
    from nujoomy_wallet_pass.domain.links import google_class_id, google_object_id, pass_id
    from nujoomy_wallet_pass.events.consumers import on_program_updated

    program = bench_program(1, "#0A7D4F", "b1")
    engine = make_engine(settings.database_url, pool_size=1)
    async with make_sessionmaker(engine)() as db, db.begin():
        await on_program_updated(settings)(
            db, new_envelope(PROGRAM_UPDATED, program, tenant_id=TENANT, mode="live")
        )
    await engine.dispose()
    members = [uuid.uuid4() for _ in range(count)]
    tokens = {m: secrets.token_hex(32) for m in members}
    issuer = settings.google_issuer_id
    class_id = google_class_id(issuer, PROGRAM, TENANT, "live")
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        await conn.executemany(
            "INSERT INTO members (tenant_id, mode, member_id, program_id, name, card_token) "
            "VALUES ($1,'live',$2,$3,$4,$5)",
            [(TENANT, m, PROGRAM, "Bench", f"NJ1-{m.hex[:20]}") for m in members],
        )
        await conn.executemany(
            "INSERT INTO passes (id, tenant_id, mode, member_id, wallet, authentication_token, updated_at) "
            "VALUES ($1,$2,'live',$3,$4,$5, date_trunc('second', now()))",
            [
                (pass_id(m, w), TENANT, m, w, secrets.token_urlsafe(24))
                for m in members
                for w in ("apple", "google")
            ],
        )
        await conn.executemany(
            "INSERT INTO apple_registrations (device_library_id, pass_id, tenant_id, mode, push_token) "
            "VALUES ($1,$2,$3,'live',$4)",
            [(f"dev-{m.hex}", pass_id(m, "apple"), TENANT, tokens[m]) for m in members],
        )
        await conn.executemany(
            "INSERT INTO google_objects (pass_id, tenant_id, mode, object_id, class_id, balance_sent) "
            "VALUES ($1,$2,'live',$3,$4,0)",
            [
                (pass_id(m, "google"), TENANT, google_object_id(issuer, TENANT, "live", m), class_id)
                for m in members
            ],
        )
        await conn.execute(
            "INSERT INTO google_classes (class_id, tenant_id, mode, branding_version) VALUES ($1,$2,'live',$3)",
            class_id,
            TENANT,
            branding_version(program),
        )
    finally:
        await conn.close()
    # What Google already holds for these members (their objects were inserted at enrolment).
    klass = {
        "id": class_id,
        "issuerName": "Bench",
        "programName": "Bench Club",
        "reviewStatus": "APPROVED",
        "programLogo": {"sourceUri": {"uri": "https://cdn.example/logo.png"}},
    }
    objects = [
        {
            "id": google_object_id(issuer, TENANT, "live", m),
            "classId": class_id,
            "state": "ACTIVE",
            "loyaltyPoints": {"label": "Points", "balance": {"int": 0}},
        }
        for m in members
    ]
    async with httpx.AsyncClient(base_url=google_url, timeout=60) as http:
        (
            await http.post("/fake/seed", json={"loyaltyClass": [klass], "loyaltyObject": objects})
        ).raise_for_status()
    return members, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_http(url: str, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


@contextlib.asynccontextmanager
async def rig(count: int) -> AsyncIterator[Rig]:
    """Separate processes, as deployed: the APNs fake, the Google fake and the wallet-pass worker;
    this process only publishes events and reads the fakes' records."""
    from nujoomy_kit.db import run_migrations, with_database
    from nujoomy_messaging.topology import Topology
    from nujoomy_wallet_pass import devcerts
    from nujoomy_wallet_pass.events.consumers import CONSUMER_NAMES
    from nujoomy_wallet_pass.settings import load

    tag = secrets.token_hex(4)
    name = f"bench_wallet_{tag}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(PG_ADMIN, name)
    await asyncio.to_thread(run_migrations, MIGRATIONS, url)
    tmp = tempfile.TemporaryDirectory()
    material = devcerts.generate(Path(tmp.name))
    apns_port, control_port, google_port = free_port(), free_port(), free_port()
    py = sys.executable
    procs = {
        "apns fake": subprocess.Popen(  # noqa: ASYNC220 - start-up, before measuring
            [
                py,
                "-m",
                "nujoomy_wallet_pass.fakes.apns",
                "--port",
                str(apns_port),
                "--control-port",
                str(control_port),
                "--cert",
                str(material / "apns-fake.pem"),
                "--key",
                str(material / "apns-fake.key"),
                "--ca",
                str(material / "ca.pem"),
            ],
            stdout=subprocess.DEVNULL,
        ),
        "google fake": subprocess.Popen(  # noqa: ASYNC220
            [
                py,
                "-m",
                "nujoomy_wallet_pass.fakes.google",
                "--port",
                str(google_port),
                "--service-account",
                str(material / "google-service-account.json"),
            ],
            stdout=subprocess.DEVNULL,
        ),
    }
    control_url, google_url = f"http://127.0.0.1:{control_port}", f"http://127.0.0.1:{google_port}"
    topology = Topology(exchange=f"bench.{tag}.events", prefix=f"bench.{tag}.")
    env = {
        **devcerts.wallet_env(
            material,
            f"https://127.0.0.1:{apns_port}",
            f"{google_url}/walletobjects/v1",
            f"{google_url}/token",
        ),
        "NUJOOMY_WALLET_PASS_DATABASE_URL": url,
        "NUJOOMY_EVENTS_EXCHANGE": topology.exchange,
        "NUJOOMY_QUEUE_PREFIX": topology.prefix,
        "NUJOOMY_LOG_LEVEL": "WARNING",
        # The Google pacer's Redis key is this run's own (a real deployment shares it per issuer).
        "NUJOOMY_REDIS_PREFIX": f"bench.{tag}.",
        "NUJOOMY_WALLET_PASS_SYNC_BATCH": "500",
        "NUJOOMY_WALLET_PASS_DB_POOL_SIZE": "20",
        # WALLET_BENCH_GOOGLE=0 measures the Apple path alone.
        "NUJOOMY_WALLET_PASS_GOOGLE_ENABLED": os.environ.get("WALLET_BENCH_GOOGLE", "1"),
    }
    settings = load(env)
    try:
        await _wait_http(f"{control_url}/health")
        await _wait_http(f"{google_url}/health")
        members, tokens = await _seed(settings, google_url, count)
        for role, extra in worker_shapes().items():
            procs[role] = _start_worker({**env, **extra}, role)
        await _wait_queues(settings, topology, CONSUMER_NAMES)
        await _wait_runners(url, worker_shapes())
        yield Rig(settings, control_url, google_url, members, tokens, procs)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(30)
        import aio_pika

        conn = await aio_pika.connect(settings.amqp_url)
        channel = await conn.channel()
        for consumer in CONSUMER_NAMES:
            await topology.delete_consumer(channel, consumer, 5)
        await channel.exchange_delete(topology.exchange)
        await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        tmp.cleanup()


def _start_worker(env: dict[str, str], role: str) -> subprocess.Popen[bytes]:
    # WALLET_BENCH_PROFILE=<file> runs each worker process under cProfile (written when it stops,
    # one file per process: <file>.<role>).
    profile = os.environ.get("WALLET_BENCH_PROFILE")
    if profile:
        profile = f"{profile}.{role.replace('worker', '').strip(': ').replace(' ', '-') or 'worker'}"
    argv = [
        sys.executable,
        *(["-m", "cProfile", "-o", profile] if profile else []),
        "-m",
        "nujoomy_wallet_pass",
        "worker",
    ]
    return subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL)


async def _wait_runners(url: str, shapes: dict[str, dict[str, str]], timeout: float = 120) -> None:
    """Every runner loop is up: its first claim has run (a process starts in seconds here, since
    this box compiles every module at import: PYTHONDONTWRITEBYTECODE), so no earn is published
    to a runner that is still importing."""
    from nujoomy_kit.db import plain_url

    def runs(extra: dict[str, str]) -> tuple[bool, bool]:
        apple = extra.get("NUJOOMY_WALLET_PASS_WORKER_SYNC", "true") != "false"
        google = extra.get("NUJOOMY_WALLET_PASS_WORKER_GOOGLE", "true") != "false"
        return apple, google and os.environ.get("WALLET_BENCH_GOOGLE", "1") != "0"

    wanted = [runs(extra) for extra in shapes.values()]
    apple_wanted = sum(1 for a, _ in wanted if a)
    google_wanted = sum(1 for _, g in wanted if g)
    conn = await asyncpg.connect(plain_url(url))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listening, claiming = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE query LIKE 'LISTEN%'), "
                "count(*) FILTER (WHERE query LIKE '%claimed_until = now()%') "
                "FROM pg_stat_activity WHERE datname = current_database()"
            )
            if listening >= apple_wanted and claiming >= google_wanted:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError("wallet-pass runners")
    finally:
        await conn.close()


async def _wait_queues(settings: Any, topology: Any, names: tuple[str, ...]) -> None:
    """The worker is ready when its queues exist (declared on start)."""
    import aio_pika

    conn = await aio_pika.connect(settings.amqp_url)
    try:
        for _ in range(300):
            try:
                channel = await conn.channel()
                for consumer in names:
                    await channel.declare_queue(topology.queue(consumer), passive=True)
                return
            except aio_pika.exceptions.ChannelClosed:
                await asyncio.sleep(0.1)
        raise TimeoutError("worker queues")
    finally:
        await conn.close()


async def publisher(settings: Any) -> tuple[Any, Any]:
    import aio_pika
    from nujoomy_messaging.topology import Topology

    conn = await aio_pika.connect(settings.amqp_url)
    channel = await conn.channel(publisher_confirms=True)
    exchange = await Topology(exchange=settings.events_exchange).declare_exchange(channel)
    return conn, exchange


async def publish(exchange: Any, envelope: Any) -> None:
    import aio_pika
    from nujoomy_contracts import encode_envelope

    await exchange.publish(
        aio_pika.Message(
            body=encode_envelope(envelope),
            message_id=str(envelope.id),
            type=envelope.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ),
        routing_key=envelope.type,
    )
