"""Gateway overhead: the same earn straight to the ledger's internal API and through the partner
gateway, in the same run; then the gateway's authenticated, rate-limited GET throughput.

What is measured (scratch databases are created and dropped):
- the ledger and the gateway each served exactly as `python -m nujoomy_<service> api` serves them
  in compose and Kubernetes (nujoomy_kit.server.serve: one uvicorn process per replica, uvloop,
  httptools), one replica each, in a subprocess on a free port; Redis and PostgreSQL local;
- `direct`: POST /internal/v1/members/{id}/earn on the ledger with an internal token;
- `gateway`: POST /v1/members/{id}/earn with an API key and a fresh Idempotency-Key: key check
  (checksum, in-process cache), GCRA and the idempotency claim in one Redis Lua call, a pooled
  keep-alive call to the same ledger route, the record written before the answer is sent. The difference of
  the two is what the gateway adds;
- `GET`: GET /v1/events?limit=1 (key + GCRA + a gateway query), closed loop, requests/s;
- the gateway process's CPU time per request (from /proc): unlike latencies and rates, it does not
  depend on what else the shared machine is running.
Closed loops at `CONCURRENCY` connections with a minimal keep-alive HTTP/1.1 client (it shares the
2 cores with both servers, Redis and PostgreSQL).

Run: `uv run python -m bench gateway_overhead` (or `make bench`); `--quick` for a smoke run.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.scratch import drop_db, scratch_db

NAME = "gateway_overhead"
DESCRIPTION = "earn direct to the ledger vs through the gateway (p50/p99, req/s); gateway GET req/s"

REDIS_URL = os.environ.get("NUJOOMY_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]
TENANT = uuid.UUID("0193d5a0-0000-7000-8000-00000000ca7e")
CONCURRENCY = 16
MEMBERS = 200


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(app: Any) -> None:
    """Served exactly as `python -m nujoomy_<service> api` serves it (nujoomy_kit.server.serve: one
    uvicorn process, uvloop, httptools, no access log, no proxy-header rewriting)."""
    from nujoomy_kit.server import serve

    port = _free_port()
    print(port, flush=True)
    serve(app, "127.0.0.1", port, "warning")


def serve_ledger(db_url: str, public_pem: str) -> None:
    from nujoomy_kit.tokens import TokenVerifier
    from nujoomy_ledger.app import build_app
    from nujoomy_ledger.settings import load

    settings = load(database_url=db_url, db_pool_size=CONCURRENCY, log_level="WARNING")
    _serve(
        build_app(
            settings, verifier=TokenVerifier(service="ledger", callers={"partner-gateway": [public_pem]})
        )
    )


def serve_gateway(db_url: str, ledger_url: str, private_pem: str, prefix: str) -> None:
    from nujoomy_partner_gateway.app import build_app
    from nujoomy_partner_gateway.settings import load

    settings = load(
        database_url=db_url,
        ledger_url=ledger_url,
        internal_private_key=private_pem,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        db_pool_size=CONCURRENCY,
        log_level="WARNING",
    )
    _serve(build_app(settings))


class Child:
    def __init__(self, *argv: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.gateway_overhead", *argv],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        _wait_live(self.port)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _wait_live(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Connection:
    """Just enough HTTP/1.1 keep-alive: the load generator shares the 2 cores with the servers."""

    _length = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, head: bytes, body: bytes = b"") -> int:
        self.writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        match = self._length.search(answer)
        await self.reader.readexactly(int(match.group(1)) if match else 0)
        return int(answer[9:12])


async def closed_loop(
    port: int, make: Any, seconds: float, concurrency: int = CONCURRENCY
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal errors
        conn = await Connection.open(port)
        i = n
        while time.perf_counter() < deadline:
            head, body = make(i)
            started = time.perf_counter()
            status = await conn.request(head, body)
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
            i += concurrency
        conn.writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return latencies, errors, len(latencies) / (time.perf_counter() - started)


async def setup_ledger(ledger_db: str, port: int, token: str) -> list[str]:
    import httpx
    from nujoomy_contracts import new_envelope
    from nujoomy_contracts.tenant import (
        PROGRAM_UPDATED,
        Branding,
        EarnRule,
        ExpiryPolicy,
        Program,
        Tenant,
        Wording,
    )
    from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
    from nujoomy_ledger.events.consumers import apply_program

    prog = Program(
        program_id=uuid.UUID(int=TENANT.int ^ 1),
        tenant_id=TENANT,
        version=1,
        type="points",
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=1),
        rewards=[],
        expiry=ExpiryPolicy(),
        wording=Wording(balance_label="Points"),
        branding=Branding(background_color="#000000", foreground_color="#FFFFFF", label_color="#CCCCCC"),
        tenant=Tenant(
            tenant_id=TENANT,
            slug="gwbench",
            name="Bench",
            locale="en",
            timezone="UTC",
            currency="EUR",
            status="active",
        ),
    )
    engine = make_engine(ledger_db, pool_size=1)
    async with transaction(make_sessionmaker(engine)) as session:
        await apply_program(session, new_envelope(PROGRAM_UPDATED, prog, tenant_id=TENANT, mode="live"))
    await engine.dispose()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    ) as c:
        answers = await asyncio.gather(
            *(c.post("/internal/v1/members", json={"name": f"m{n}"}) for n in range(MEMBERS))
        )
    return [a.json()["id"] for a in answers]


async def create_api_key(gateway_db: str) -> str:
    from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
    from nujoomy_partner_gateway.db.keys import create_key, set_tenant_limits

    engine = make_engine(gateway_db, pool_size=1)
    async with transaction(make_sessionmaker(engine)) as session:
        # Rate-limited for real, above what this machine can send: every request pays for the check.
        _, secret = await create_key(
            session,
            TENANT,
            "live",
            name="bench",
            scopes=["read", "write", "webhooks"],
            rate=50_000,
            burst=50_000,
            max_in_flight=1000,
        )
        # The tenant's aggregate over its keys too (an operator setting, like the key's own).
        await set_tenant_limits(session, TENANT, "live", rate=50_000, burst=50_000, max_keys=None)
    await engine.dispose()
    return secret


def earn_request(path_prefix: str, members: list[str], auth: str, gateway: bool) -> Any:
    def make(i: int) -> tuple[bytes, bytes]:
        key = uuid.uuid4().hex
        member = members[i % len(members)]
        extra = f"Idempotency-Key: {key}\r\n" if gateway else ""
        body = b'{"points":1}' if gateway else b'{"points":1,"idempotency_key":"%s"}' % key.encode()
        head = (
            f"POST {path_prefix}/members/{member}/earn HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {auth}\r\n{extra}"
        ).encode()
        return head, body

    return make


async def bench(quick: bool) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from nujoomy_kit.tokens import InternalTokenIssuer, private_pem, public_pem

    from bench.report import percentile, table

    seconds = 3.0 if quick else 10.0
    key = Ed25519PrivateKey.generate()
    priv, pub = private_pem(key), public_pem(key.public_key())
    tag = uuid.uuid4().hex[:6]
    ledger_name, gateway_name = f"bench_gw_ledger_{tag}", f"bench_gw_gateway_{tag}"
    ledger_db = await scratch_db(ledger_name, ROOT / "services" / "ledger" / "migrations")
    gateway_db = await scratch_db(gateway_name, ROOT / "services" / "partner-gateway" / "migrations")
    ledger = gateway = None
    try:
        ledger = Child("--serve-ledger", ledger_db, pub)
        gateway = Child(
            "--serve-gateway", gateway_db, f"http://127.0.0.1:{ledger.port}", priv, f"bench:{tag}:"
        )
        # The set-up speaks to the ledger as the gateway does (the only caller the ledger trusts here).
        token = InternalTokenIssuer(priv, subject="partner-gateway", ttl=3600).issue(
            TENANT, "live", to="ledger", scopes=("read", "write")
        )
        members = await setup_ledger(ledger_db, ledger.port, token)
        api_key = await create_api_key(gateway_db)
        rows = []
        results: dict[str, tuple[list[float], int, float]] = {}
        load_before = os.getloadavg()[0]
        cpu_earn = [0.0, 0]  # gateway CPU seconds, requests (saturated earn phases via the gateway)
        # Warm both paths (connection pools, caches), then measure each twice, interleaved.
        await closed_loop(ledger.port, earn_request("/internal/v1", members, token, False), 1)
        await closed_loop(gateway.port, earn_request("/v1", members, api_key, True), 1)
        for _ in range(2):
            for name, port, make in (
                ("direct → ledger", ledger.port, earn_request("/internal/v1", members, token, False)),
                ("via gateway", gateway.port, earn_request("/v1", members, api_key, True)),
            ):
                cpu0 = gateway.cpu_seconds()
                lat, errors, rate = await closed_loop(port, make, seconds / 2)
                if port == gateway.port:
                    cpu_earn[0] += gateway.cpu_seconds() - cpu0
                    cpu_earn[1] += len(lat) + errors
                prev = results.get(name, ([], 0, 0.0))
                results[name] = (prev[0] + lat, prev[1] + errors, prev[2] + rate / 2)
        # Added latency without queueing: one connection, one request at a time, interleaved.
        single: dict[str, list[float]] = {"direct → ledger": [], "via gateway": []}
        for _ in range(2):
            for name, port, make in (
                ("direct → ledger", ledger.port, earn_request("/internal/v1", members, token, False)),
                ("via gateway", gateway.port, earn_request("/v1", members, api_key, True)),
            ):
                lat, _, _ = await closed_loop(port, make, seconds / 4, concurrency=1)
                single[name] += lat
        for name, lat in single.items():
            ms = [v * 1000 for v in lat]
            rate = len(lat) / (seconds / 2)
            rows.append(
                (
                    f"earn {name}, 1 connection",
                    f"{rate:.0f}",
                    f"{percentile(ms, 50):.2f}",
                    f"{percentile(ms, 99):.2f}",
                    0,
                )
            )
        for name, (lat, errors, rate) in results.items():
            ms = [v * 1000 for v in lat]
            rows.append(
                (
                    f"earn {name}",
                    f"{rate:.0f}",
                    f"{percentile(ms, 50):.2f}",
                    f"{percentile(ms, 99):.2f}",
                    errors,
                )
            )
        get_head = (
            f"GET /v1/events?limit=1 HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {api_key}\r\n".encode()
        )
        cpu0 = gateway.cpu_seconds()
        lat, errors, rate = await closed_loop(
            gateway.port, lambda i: (get_head, b""), seconds, concurrency=32
        )
        cpu_get = (gateway.cpu_seconds() - cpu0) / max(1, len(lat) + errors)
        ms = [v * 1000 for v in lat]
        rows.append(
            (
                "GET /v1/events via gateway",
                f"{rate:.0f}",
                f"{percentile(ms, 50):.2f}",
                f"{percentile(ms, 99):.2f}",
                errors,
            )
        )
        table(("what", "req/s", "p50 ms", "p99 ms", "errors"), rows)
        direct = [v * 1000 for v in single["direct → ledger"]]
        via = [v * 1000 for v in single["via gateway"]]
        print(
            f"on one connection the gateway adds {percentile(via, 50) - percentile(direct, 50):.2f} ms at p50"
            " (goal < 2 ms), "
            f"{percentile(via, 99) - percentile(direct, 99):.2f} ms at p99; GET goal ≥ 1,500 req/s"
        )
        # CPU time of the gateway process per request: what the gateway itself costs, whatever
        # else the machine runs (the latencies and rates above are not, on a shared machine).
        print(
            f"gateway process CPU per request: earn {cpu_earn[0] / max(1, cpu_earn[1]) * 1e6:.0f} µs, "
            f"GET /v1/events {cpu_get * 1e6:.0f} µs (one core's ceiling ≈ {1 / max(cpu_get, 1e-9):,.0f} GET/s); "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
    finally:
        for child in (gateway, ledger):
            if child is not None:
                child.stop()
        await drop_db(ledger_name)
        await drop_db(gateway_name)


def run(args: Any) -> Any:
    return bench(args.quick)


if __name__ == "__main__":
    if sys.argv[1] == "--serve-ledger":
        serve_ledger(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--serve-gateway":
        serve_gateway(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
