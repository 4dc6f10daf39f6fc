"""The whole system as processes, the way `nujoomy dev up` runs it — but on free ports, in scratch
databases, on this test's exchange/queue prefix and Redis prefix, with TWO replicas of every worker
and of the gateway API, and with the broker, Redis and the ledger's PostgreSQL behind TcpProxies a
fault can cut (the real daemons stay up for everybody else).

Every process is `python -m <package> api|worker` (what the dev supervisor starts) or a fake's module
(what the services register with `registry.add_process`), each with its own log file under the
test's tmp directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import redis.asyncio as redis
from nujoomy_kit.db import plain_url
from nujoomy_messaging import Topology
from nujoomy_testing import TcpProxy
from nujoomy_testing.plugin import MakeDb

ROOT = Path(__file__).resolve().parents[2]
# The checker reads the databases from outside the system (its application_name): the PostgreSQL fault
# ends the services' sessions, not the checker's (a real restart would end it too; a check is not the system).
CHECKER_APP = "nujoomy-chaos-checker"

SERVICES = {
    "tenant": "nujoomy_tenant",
    "ledger": "nujoomy_ledger",
    "wallet-pass": "nujoomy_wallet_pass",
    "notification": "nujoomy_notification",
    "partner-gateway": "nujoomy_partner_gateway",
}
SIBLING_URL = {
    "tenant": "NUJOOMY_TENANT_URL",
    "ledger": "NUJOOMY_LEDGER_URL",
    "wallet-pass": "NUJOOMY_WALLET_PASS_URL",
    "notification": "NUJOOMY_NOTIFICATION_URL",
    "partner-gateway": "NUJOOMY_GATEWAY_URL",
}
LONG = os.environ.get("NUJOOMY_CHAOS_SCALE") == "long"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _var(service: str) -> str:
    return service.upper().replace("-", "_")


class Proc:
    """One child process; SIGKILL-able and restartable, its output appended to `log`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.held = False  # killed on purpose: the supervisor leaves it down until start()
        self.restarts = 0  # times the supervisor restarted it after it exited on its own

    def start(self) -> None:
        self.held = False
        out = self.log.open("ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=out, cwd=ROOT)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.held = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        self.held = True
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@dataclass
class System:
    """What a test talks to: URLs, the direct database URLs (the checker's view, not through the
    proxies), the proxies the faults cut, and the processes."""

    tmp: Path
    env: dict[str, str]
    urls: dict[str, str]  # service -> base URL (partner-gateway: replica 1)
    gateways: list[str]  # both gateway replicas
    databases: dict[str, str]  # direct URLs
    fakes: dict[str, str]  # apns-control, google, smtp-http, sms
    pg: TcpProxy
    amqp: TcpProxy
    redis: TcpProxy
    topology: Topology
    amqp_url: str  # direct
    redis_url: str  # direct
    redis_prefix: str
    procs: dict[str, Proc] = field(default_factory=dict)

    def workers(self, service: str) -> list[Proc]:
        return [p for n, p in self.procs.items() if n.startswith(f"{service}.worker")]

    def tail(self, lines: int = 30) -> str:
        """The end of every log with an error in it, for a failing assertion's message."""
        out = []
        for proc in self.procs.values():
            text = proc.log.read_text(errors="replace") if proc.log.exists() else ""
            if "Traceback" in text or not proc.alive:
                out.append(f"--- {proc.name} ({'alive' if proc.alive else 'dead'})")
                out += text.splitlines()[-lines:]
        return "\n".join(out)

    async def terminate_sessions(self) -> int:
        """A PostgreSQL restart as the services see it: every server session of their five
        databases ends (the server is shared, as in `make up` and most deployments)."""
        names = [url.rsplit("/", 1)[1].split("?")[0] for url in self.databases.values()]
        admin = self.databases["ledger"].rsplit("/", 1)[0] + "/postgres"
        conn = await asyncpg.connect(plain_url(admin))
        try:
            rows = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid() AND application_name <> $2",
                names,
                CHECKER_APP,
            )
        finally:
            await conn.close()
        return len(rows)

    async def flush_redis(self) -> int:
        """What a Redis restart without persistence loses: every key of this system."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = [k async for k in client.scan_iter(match=f"{self.redis_prefix}*", count=1000)]
            if keys:
                await client.delete(*keys)
            return len(keys)
        finally:
            await client.aclose()


def _environment(
    tmp: Path,
    databases: dict[str, str],
    ports: dict[str, int],
    fakes: dict[str, int],
    proxies: dict[str, str],
    topology: Topology,
    redis_prefix: str,
) -> dict[str, str]:
    from nujoomy_cli.devkeys import internal_keys
    from nujoomy_notification.cli import dev_env as notification_dev_env
    from nujoomy_wallet_pass import devcerts

    dev = tmp / "dev"
    wallet = devcerts.generate(dev / "wallet")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUJOOMY_", "PYTEST_"))}
    env.update(
        NUJOOMY_DEV_MODE="true",
        NUJOOMY_LOG_JSON="false",
        NUJOOMY_DEV_DIR=str(dev),
        NUJOOMY_AMQP_URL=proxies["amqp"],
        NUJOOMY_REDIS_URL=proxies["redis"],
        NUJOOMY_REDIS_PREFIX=redis_prefix,
        NUJOOMY_EVENTS_EXCHANGE=topology.exchange,
        NUJOOMY_QUEUE_PREFIX=topology.prefix,
        NUJOOMY_DB_POOL_SIZE="4",  # the shared PostgreSQL serves every helper's tests
        NUJOOMY_PUBLIC_URL=f"http://127.0.0.1:{ports['partner-gateway']}",
        NUJOOMY_WALLET_PASS_PUBLIC_URL=f"http://127.0.0.1:{ports['wallet-pass']}",
        NUJOOMY_TENANT_ARGON2_TIME_COST="1",
        NUJOOMY_TENANT_ARGON2_MEMORY_KIB="8192",
    )
    env.update(internal_keys(dev, SERVICES))
    env.update(notification_dev_env(dev))
    env.update(
        devcerts.wallet_env(
            wallet,
            f"https://127.0.0.1:{fakes['apns']}",
            f"http://127.0.0.1:{fakes['google']}/walletobjects/v1",
            f"http://127.0.0.1:{fakes['google']}/token",
        )
    )
    n = "NUJOOMY_NOTIFICATION_"
    for mode in ("", "SANDBOX_"):
        env[f"{n}{mode}SMTP_PORT"] = str(fakes["smtp"])
        env[f"{n}{mode}SMS_URL"] = f"http://127.0.0.1:{fakes['sms']}/messages"
    # Retries sized to the faults: every schedule outlasts the longest outage of the scale.
    env[f"{n}RETRY_DELAYS_S"] = "1,2,4,8,15,30,60,120,300" if LONG else "1,1,2,3,5,8,13"
    env[f"{n}EVENT_RETRY_DELAYS_S"] = "1,2,4,8,15,30,60,120" if LONG else "1,1,2,3,5,8"
    # The default cap (5 a member a day) would leave most of the load's mail unsent: more mail, more
    # chances for a second copy under the faults.
    env[f"{n}DAILY_CAP"] = "50"
    # No quiet hours (start == end): a run at night must still send its mail now, to be checked.
    env[f"{n}QUIET_START"] = env[f"{n}QUIET_END"] = "0"
    if not LONG:
        # A message a SIGKILLed sender had claimed waits out this lease (default 120 s); 20 s is still
        # far above one send to the local sink, so no live send is taken over.
        env[f"{n}LEASE_S"] = "20"
    # Staff access tokens expire within the short run too (default 15 min), so the journey's
    # sign-in-again path runs in CI and not only in the long run.
    env["NUJOOMY_TENANT_ACCESS_TTL_SECONDS"] = "60"
    g = "NUJOOMY_PARTNER_GATEWAY_"
    env[f"{g}WEBHOOK_POLL_SECONDS"] = "0.2"
    env[f"{g}WEBHOOK_LEASE_SECONDS"] = "20"
    env[f"{g}WEBHOOK_SCHEDULE"] = "0,1,2,4,8,15,30,60,60,60,60,60,60,60" if LONG else "0,1,1,2,3,5,8,13"
    env[f"{g}WEBHOOK_TIMEOUT"] = "12"  # the slow endpoint answers in 10 s in the long run
    for service, port in ports.items():
        env[f"NUJOOMY_{_var(service)}_PORT"] = str(port)
        env[f"NUJOOMY_{_var(service)}_DATABASE_URL"] = databases[service]
        env[SIBLING_URL[service]] = f"http://127.0.0.1:{port}"
    for service in ports:  # every service reaches PostgreSQL through the proxy a fault cuts
        env[f"NUJOOMY_{_var(service)}_DATABASE_URL"] = proxies[f"{service}-db"]
    return env


async def _ready(urls: list[str], timeout: float, procs: dict[str, Proc]) -> None:
    deadline = time.monotonic() + timeout
    pending = set(urls)
    async with httpx.AsyncClient(timeout=2) as client:
        while pending:
            for url in list(pending):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        pending.discard(url)
            dead = [p.name for p in procs.values() if not p.alive]
            if dead:
                raise RuntimeError(f"died while starting: {dead}")
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout:.0f}s: {sorted(pending)}")
            await asyncio.sleep(0.5)


async def _supervise(procs: dict[str, Proc]) -> None:
    """What `nujoomy dev up`'s supervisor (and Kubernetes) does: a process that exits on its own is
    started again. A worker started while the broker or its database is away exits; this brings it
    back, as production would."""
    while True:
        await asyncio.sleep(1.0)
        for proc in procs.values():
            if not proc.held and proc.proc is not None and proc.proc.poll() is not None:
                proc.restarts += 1
                proc.start()


@contextlib.asynccontextmanager
async def running_system(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tmp: Path,
) -> AsyncIterator[System]:
    databases = {s: await make_db(s, ROOT / "services" / s / "migrations") for s in SERVICES}
    pg_target = urlsplit(databases["ledger"])
    broker, cache = urlsplit(amqp_url), urlsplit(redis_url)
    pg = await TcpProxy(pg_target.hostname or "127.0.0.1", pg_target.port or 5432).start()
    amqp = await TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672).start()
    rds = await TcpProxy(cache.hostname or "127.0.0.1", cache.port or 6379).start()
    ports = {s: free_port() for s in SERVICES}
    second_gateway = free_port()
    fakes = {k: free_port() for k in ("apns", "apns-control", "google", "smtp", "smtp-http", "sms")}
    proxies = {
        "amqp": amqp.url_for(amqp_url),
        "redis": rds.url_for(redis_url),
        **{f"{s}-db": pg.url_for(databases[s]) for s in SERVICES},
    }
    env = _environment(tmp, databases, ports, fakes, proxies, topology, redis_prefix)
    logs = tmp / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    wallet = Path(env["NUJOOMY_DEV_DIR"]) / "wallet"
    py = sys.executable
    procs: dict[str, Proc] = {}

    def add(name: str, argv: list[str], env_: dict[str, str] = env) -> None:
        procs[name] = Proc(name, argv, env_, logs / f"{name}.log")

    add(
        "apns-fake",
        [py, "-m", "nujoomy_wallet_pass.fakes.apns", "--port", str(fakes["apns"]),
         "--control-port", str(fakes["apns-control"]), "--cert", str(wallet / "apns-fake.pem"),
         "--key", str(wallet / "apns-fake.key"), "--ca", str(wallet / "ca.pem")],
    )  # fmt: skip
    add(
        "google-fake",
        [py, "-m", "nujoomy_wallet_pass.fakes.google", "--port", str(fakes["google"]),
         "--service-account", str(wallet / "google-service-account.json")],
    )  # fmt: skip
    add(
        "smtp-sink",
        [py, "-m", "nujoomy_notification.fakes.smtp_sink", "--smtp-port", str(fakes["smtp"]),
         "--http-port", str(fakes["smtp-http"])],
    )  # fmt: skip
    add("sms-fake", [py, "-m", "nujoomy_notification.fakes.sms_provider", "--port", str(fakes["sms"])])
    for service, package in SERVICES.items():
        add(f"{service}.api", [py, "-m", package, "api"])
        for i in range(2):
            add(f"{service}.worker{i}", [py, "-m", package, "worker"])
    add(
        "partner-gateway.api2",
        [py, "-m", "nujoomy_partner_gateway", "api"],
        {**env, "NUJOOMY_PARTNER_GATEWAY_PORT": str(second_gateway)},
    )
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    fake_urls = {
        "apns-control": f"http://127.0.0.1:{fakes['apns-control']}",
        "google": f"http://127.0.0.1:{fakes['google']}",
        "smtp-http": f"http://127.0.0.1:{fakes['smtp-http']}",
        "sms": f"http://127.0.0.1:{fakes['sms']}",
    }
    system = System(
        tmp=tmp,
        env=env,
        urls=urls,
        gateways=[urls["partner-gateway"], f"http://127.0.0.1:{second_gateway}"],
        databases=databases,
        fakes=fake_urls,
        pg=pg,
        amqp=amqp,
        redis=rds,
        topology=topology,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        procs=procs,
    )
    try:
        for proc in procs.values():
            proc.start()
        ready = [f"{u}/health/ready" for u in (*urls.values(), system.gateways[1])]
        ready += [
            f"{fake_urls['apns-control']}/health",
            f"{fake_urls['google']}/health",
            f"{fake_urls['smtp-http']}/messages",
            f"{fake_urls['sms']}/messages",
        ]
        try:
            await _ready(ready, 240, procs)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{system.tail()}") from exc
        supervisor = asyncio.create_task(_supervise(procs))
        try:
            yield system
        finally:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
    finally:
        for proc in procs.values():  # all at once: SIGTERM, then each waited for (SIGKILL at 15 s)
            proc.held = True
            if proc.alive:
                assert proc.proc is not None
                proc.proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            with contextlib.suppress(Exception):
                proc.stop()
        for proxy in (pg, amqp, rds):
            await proxy.close()
