"""Staff earn over HTTP vs. pgbench doing the same SQL work, and latency at a fixed 500 req/s.

What is measured (a scratch database is created and dropped):
- `http`: POST /staff/v1/earn by card token and purchase amount against the ledger app served by
  uvicorn (uvloop + httptools, one process) in a subprocess on an ephemeral port: staff-token
  verification (Ed25519), the program projection + card lookup, ledger_post (idempotency, balance
  lock, transaction, two postings, earn lot, balance cache), two outbox rows, commit. Closed loop at
  `--concurrency` connections with a minimal keep-alive HTTP/1.1 client (so the client spends little
  of the shared CPU).
- `pgbench`: the same statements per transaction (projection + card query, ledger_post, the outbox
  insert with bodies of the same size) at the same concurrency, prepared: the ceiling for this SQL.
- `open loop`: requests scheduled every 2 ms (500/s) whatever the answers do; latency counts from
  the scheduled time, so a stall shows up in p99 instead of hiding (no coordinated omission).

Run: `uv run python -m bench ledger_earn` (or `make bench`); `--quick` for a smoke run.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.scratch import drop_db, scratch_db

NAME = "ledger_earn"
DESCRIPTION = "staff earn over HTTP vs a pgbench ceiling for the same SQL; p50/p99 at 500 req/s"

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = ROOT / "services" / "ledger" / "migrations"
TENANT = uuid.UUID("0193d5a0-0000-7000-8000-00000000be0c")
MEMBERS = 10_000
CONCURRENCY = 32


def member_uuid(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-7000-8000-{n:012x}")


def card_token(n: int) -> str:
    # Base32 alphabet only ([A-Z2-7]): hex digits 0, 1, 8, 9 become W, X, Y, Z. Mirrored in SQL.
    return "NJ1-" + f"{n:X}".rjust(26, "Q").translate(str.maketrans("0189", "WXYZ"))


SQL_CARD = "'NJ1-' || translate(lpad(upper(to_hex({n})), 26, 'Q'), '0189', 'WXYZ')"
SQL_MEMBER = "('00000000-0000-7000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid"


# ------------------------------------------------------------------------------------------- setup


def bench_program() -> Any:
    from nujoomy_contracts.tenant import Branding, EarnRule, ExpiryPolicy, Program, Reward, Tenant, Wording

    return Program(
        program_id=uuid.UUID(int=TENANT.int ^ 1),
        tenant_id=TENANT,
        version=1,
        type="points",
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=1),
        rewards=[Reward(reward_id=uuid.UUID(int=TENANT.int ^ 2), name="Coffee", cost=100)],
        expiry=ExpiryPolicy(kind="months_after_earn", months=12),
        wording=Wording(),
        branding=Branding(background_color="#000000", foreground_color="#FFFFFF", label_color="#CCCCCC"),
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


async def seed(url: str, members: int) -> None:
    """The program projection and `members` members with cards, accounts and balances."""
    import asyncpg
    import msgspec

    program = bench_program()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO programs (tenant_id, mode, program_id, version, type, currency, rules) "
            "VALUES ($1, 'live', $2, 1, 'points', 'EUR', $3::jsonb)",
            TENANT,
            program.program_id,
            msgspec.json.encode(program).decode(),
        )
        ids = f"generate_series(1, {members}) AS n"
        member = SQL_MEMBER.format(n="n")
        await conn.execute(
            f"INSERT INTO members (id, tenant_id, mode, name) SELECT {member}, $1, 'live', 'M' || n FROM {ids}",
            TENANT,
        )
        await conn.execute(
            f"INSERT INTO accounts (id, tenant_id, mode, kind, member_id) "
            f"SELECT {member}, $1, 'live', 'member', {member} FROM {ids}",
            TENANT,
        )
        await conn.execute(
            f"INSERT INTO balances (account_id, tenant_id, mode) SELECT {member}, $1, 'live' FROM {ids}",
            TENANT,
        )
        await conn.execute(
            f"INSERT INTO cards (token, tenant_id, mode, member_id) "
            f"SELECT {SQL_CARD.format(n='n')}, $1, 'live', {member} FROM {ids}",
            TENANT,
        )
        assert await conn.fetchval(
            "SELECT token FROM cards WHERE member_id = $1", member_uuid(77)
        ) == card_token(77)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def reset(url: str) -> None:
    """Between phases: empty the outbox and ledger rows so each phase starts from the same state."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        # TRUNCATE fires no row triggers: the append-only guard is for the service, not the bench.
        await conn.execute("TRUNCATE outbox, lot_draws, earn_lots, postings, reservations, transactions")
        await conn.execute("UPDATE balances SET balance = 0, lifetime = 0, sequence = 0")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# ------------------------------------------------------------------------------------------ server


def serve(url: str, jwks_json: str) -> None:
    """Child process: the ledger app on an ephemeral port; prints the port, serves until killed."""
    import socket

    import msgspec
    import uvicorn
    from nujoomy_kit.tokens import JwksCache, TokenVerifier
    from nujoomy_ledger.app import build_app
    from nujoomy_ledger.settings import load

    jwks = msgspec.json.decode(jwks_json)

    async def fetch() -> dict[str, Any]:
        return jwks  # type: ignore[no-any-return]

    settings = load(database_url=url, db_pool_size=CONCURRENCY, log_level="WARNING")
    app = build_app(settings, verifier=TokenVerifier(service="ledger", jwks=JwksCache(fetch)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # connections made before uvicorn is up wait in the backlog
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, loop="uvloop", http="httptools", backlog=2048
    )
    uvicorn.Server(config).run(sockets=[sock])


class Server:
    def __init__(self, url: str, jwks: dict[str, Any]) -> None:
        import msgspec

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.ledger_earn", "--serve", url, msgspec.json.encode(jwks).decode()],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# ------------------------------------------------------------------------------------------ client


class Connection:
    """Just enough HTTP/1.1 keep-alive for JSON POSTs: the load generator shares the 2 cores."""

    _length = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, auth: str) -> None:
        self.reader = reader
        self.writer = writer
        self.head = (
            "POST /staff/v1/earn HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {auth}\r\n"
        ).encode()

    @classmethod
    async def open(cls, port: int, auth: str) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, auth)

    async def earn(self, n: int) -> int:
        body = (
            f'{{"card_token":"{card_token(n)}","amount":{{"value":"12.50","currency":"EUR"}},'
            f'"location_id":"{LOCATION}","idempotency_key":"{uuid.uuid4().hex}"}}'
        ).encode()
        self.writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        match = self._length.search(head)
        await self.reader.readexactly(int(match.group(1)) if match else 0)
        return int(head[9:12])

    def close(self) -> None:
        self.writer.close()


def _location() -> str:
    from nujoomy_kit.ids import encode_id

    return encode_id("loc", uuid.UUID(int=TENANT.int ^ 3))


LOCATION = ""


async def closed_loop(
    port: int, auth: str, concurrency: int, seconds: float, members: int
) -> tuple[float, int]:
    import random

    ok = 0
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal ok, errors
        conn = await Connection.open(port, auth)
        try:
            while time.perf_counter() < deadline:
                if await conn.earn(random.randint(1, members)) == 200:
                    ok += 1
                else:
                    errors += 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return ok / (time.perf_counter() - started), errors


async def open_loop(port: int, auth: str, rate: int, seconds: float, members: int) -> tuple[list[float], int]:
    import random

    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(await Connection.open(port, auth))
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            status = await conn.earn(random.randint(1, members))
        finally:
            pool.put_nowait(conn)
        latencies.append(time.perf_counter() - scheduled)
        if status != 200:
            errors += 1

    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(int(rate * seconds)):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return latencies, errors


# ----------------------------------------------------------------------------------------- pgbench


def pgbench_script(members: int) -> str:
    """The statements one HTTP earn sends, with the same shapes and sizes of values."""
    import json
    from datetime import UTC, datetime

    import msgspec
    from nujoomy_contracts import new_envelope
    from nujoomy_contracts.ledger import (
        BALANCE_CHANGED,
        TRANSACTION_POSTED,
        BalanceChanged,
        TransactionPosted,
    )

    member = member_uuid(1)
    now = datetime.now(UTC)
    posted = new_envelope(
        TRANSACTION_POSTED,
        TransactionPosted(
            transaction_id=uuid.uuid4(),
            member_id=member,
            kind="earn",
            points=12,
            balance_after=120,
            program_version=1,
            location_id=uuid.uuid4(),
            amount="12.50",
            currency="EUR",
            posted_at=now,
        ),
        tenant_id=TENANT,
        mode="live",
    )
    changed = new_envelope(
        BALANCE_CHANGED,
        BalanceChanged(
            member_id=member, account_id=member, balance=120, lifetime_points=120, sequence=10, changed_at=now
        ),
        tenant_id=TENANT,
        mode="live",
    )
    bodies = [msgspec.json.encode(e).hex() for e in (posted, changed)]
    request = json.dumps(
        {
            "kind": "earn",
            "member_id": str(member),
            "points": None,
            "amount": "12.50",
            "currency": "EUR",
            "reference": None,
            "location_id": str(uuid.uuid4()),
        }
    )  # ": " keeps pgbench from reading `:null` as a variable
    card = SQL_CARD.format(n=":n::int")
    member_sql = SQL_MEMBER.format(n=":n::int")
    return f"""\\set n random(1, {members})
BEGIN;
SELECT (SELECT rules::text FROM programs WHERE tenant_id = '{TENANT}' AND mode = 'live') AS rules, mm.id, mm.status FROM (SELECT 1) one LEFT JOIN (SELECT m.id, m.status FROM cards c JOIN members m ON m.id = c.member_id WHERE c.token = {card} AND c.status = 'active' AND c.tenant_id = '{TENANT}' AND c.mode = 'live') mm ON true;
SELECT outcome, transaction_id, balance, lifetime, reserved, sequence, available, created_at, request::text FROM ledger_post('{TENANT}', 'live', gen_random_uuid(), {member_sql}, 'earn', 12, 'issuance', md5(random()::text), '{request}'::jsonb, 'new', NULL, now() + interval '12 months', false, 12, 0, NULL, 1, '{uuid.uuid4()}', NULL, NULL, '12.50', 'EUR', NULL, '{uuid.uuid4()}');
INSERT INTO outbox (event_id, aggregate, routing_key, body) SELECT * FROM unnest(ARRAY[gen_random_uuid(), gen_random_uuid()], ARRAY['member:{member}', 'member:{member}'], ARRAY['{TRANSACTION_POSTED}', '{BALANCE_CHANGED}'], ARRAY['\\x{bodies[0]}'::bytea, '\\x{bodies[1]}'::bytea]);
END;
"""


def pgbench(url: str, script: str, concurrency: int, seconds: int) -> float:
    binary = shutil.which("pgbench") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None
    )
    if binary is None:
        raise RuntimeError("pgbench not found")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            [
                str(binary),
                "-n",
                "-M",
                "prepared",
                "-c",
                str(concurrency),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-f",
                fh.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(fh.name)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed ({out.returncode}):\n{out.stdout}\n{out.stderr[-2000:]}")
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    if match is None:
        raise RuntimeError(f"unexpected pgbench output:\n{out.stdout}")
    return float(match.group(1))


# --------------------------------------------------------------------------------------------- run


async def check_ledger(url: str) -> tuple[int, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM transactions")
        total = await conn.fetchval("SELECT coalesce(sum(amount), 0) FROM postings")
        return int(count), int(total)
    finally:
        await conn.close()


async def main(quick: bool) -> None:
    global LOCATION
    from nujoomy_kit.db import plain_url
    from nujoomy_testing.tokens import TestTokens

    from bench.report import percentile, summary_ms, table

    LOCATION = _location()
    members = 2_000 if quick else MEMBERS
    seconds = 5 if quick else 15
    name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    url = plain_url(await scratch_db(name, MIGRATIONS))
    tokens = TestTokens()
    server = None
    try:
        await seed(url, members)
        # pgbench first, before the app's pool holds connections (the server caps at 100 and the
        # machine is shared with other test suites).
        ceiling = await asyncio.to_thread(pgbench, url, pgbench_script(members), CONCURRENCY, seconds)
        await reset(url)

        server = Server(url, tokens.jwks())
        auth = tokens.staff(TENANT, role="staff", ttl=3600)
        await closed_loop(server.port, auth, CONCURRENCY, 2 if quick else 3, members)  # warm-up
        await reset(url)

        cpu_before = server.cpu_seconds()
        http_rps, http_errors = await closed_loop(server.port, auth, CONCURRENCY, seconds, members)
        posted, ledger_sum = await check_ledger(url)
        cpu_per_earn_ms = (server.cpu_seconds() - cpu_before) / max(posted, 1) * 1000
        await reset(url)

        latencies, open_errors = await open_loop(server.port, auth, 500, seconds, members)
        ms = [v * 1000 for v in latencies]
        await reset(url)
        # The same open loop at half the closed-loop capacity: latency when the box is not saturated.
        half = max(10, int(http_rps / 2))
        relaxed, relaxed_errors = await open_loop(server.port, auth, half, seconds, members)
        table(
            ["measure", "value"],
            [
                [f"http earn, closed loop c={CONCURRENCY}", f"{http_rps:.0f} req/s ({http_errors} errors)"],
                [f"pgbench same SQL, c={CONCURRENCY}", f"{ceiling:.0f} tps"],
                ["ratio http / pgbench", f"{http_rps / ceiling:.2f} (goal >= 0.33)"],
                ["app CPU per earn (server process)", f"{cpu_per_earn_ms:.2f} ms"],
                ["load average (1 min, 2 cores, shared)", f"{os.getloadavg()[0]:.1f}"],
                ["open loop 500 req/s", f"{summary_ms(latencies)} ({open_errors} errors, n={len(ms)})"],
                ["p99 at 500 req/s", f"{percentile(ms, 99):.1f} ms (goal < 25 ms)"],
                [
                    f"open loop {half} req/s (half capacity)",
                    f"{summary_ms(relaxed)} ({relaxed_errors} errors)",
                ],
                ["ledger check (closed loop)", f"{posted} transactions, postings sum {ledger_sum}"],
            ],
        )
    finally:
        if server is not None:
            server.stop()
        await drop_db(name)


def run(args: Any) -> Any:
    return main(bool(getattr(args, "quick", False)))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        asyncio.run(main("--quick" in sys.argv))
