"""The faults, each an async function run beside the load; each returns what shows it really bit.

Sizes come from the scale: NUJOOMY_CHAOS_SCALE=short (CI: a few seconds each) or long (`make chaos`:
RabbitMQ 30 s, APNs failures for a minute, the webhook endpoint down five minutes, …).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from nujoomy_testing import TcpProxy

from .journey import Journey
from .receiver import Receiver
from .stack import LONG


@dataclass(frozen=True)
class Scale:
    broker_s: float = 30.0 if LONG else 3.0
    kill_gap_s: float = 5.0 if LONG else 1.0
    postgres_s: float = 20.0 if LONG else 3.0
    redis_s: float = 20.0 if LONG else 3.0
    apns_failures: int = 8 if LONG else 2  # 500s then 429s per token (about a minute of retries long)
    google_failures: int = 40 if LONG else 6
    webhook_down_s: float = 300.0 if LONG else 4.0
    webhook_slow_s: float = 10.0 if LONG else 2.0  # each answer takes this long
    webhook_slow_for_s: float = 60.0 if LONG else 4.0
    smtp_refusals: int = 30 if LONG else 4
    rounds: int = 10 if LONG else 3
    members: int = 12 if LONG else 4


SCALE = Scale()


@dataclass
class Context:
    journey: Journey
    receivers: dict[str, Receiver]
    gone: set[str] = field(default_factory=set)  # push tokens APNs answered 410 for
    # webhook-ids re-sent (same id) because a worker was killed between the answer and its record
    excused: set[str] = field(default_factory=set)


Fault = Callable[[Context], Awaitable[str]]


async def no_fault(ctx: Context) -> str:
    return "-"


async def _nothing() -> None:
    return None


async def _outage(
    proxy: TcpProxy,
    seconds: float,
    at_start: Callable[[], Awaitable[object]] = _nothing,
    at_end: Callable[[], Awaitable[object]] = _nothing,
) -> tuple[object, object]:
    """The server behind `proxy` "stops": connections dropped, new ones refused, for `seconds`.
    `at_start` runs as it stops (what a restart also does: end sessions, lose memory), `at_end`
    just before it is back (to see what piled up)."""
    await asyncio.sleep(0.5)  # the load is under way
    first = await at_start()  # first, or the proxy's cut would have ended the sessions already
    proxy.drop()
    await asyncio.sleep(seconds)
    last = await at_end()
    proxy.restore()
    return first, last


async def broker_cut(ctx: Context) -> str:
    _, piled = await _outage(ctx.journey.system.amqp, SCALE.broker_s, at_end=lambda: system_outbox_rows(ctx))
    return f"broker away {SCALE.broker_s:.0f}s; outboxes held {piled}"


async def system_outbox_rows(ctx: Context) -> int:
    from .checker import _fetch

    total = 0
    for db in ctx.journey.system.databases.values():
        total += int((await _fetch(db, "SELECT count(*) AS n FROM outbox"))[0]["n"])
    return total


async def worker_sigkill(ctx: Context) -> str:
    """One worker of every service with one, SIGKILLed at once mid-load, restarted after a gap; then
    the other replica, so the one holding the relay lock and the deliveries in flight dies for sure."""
    system = ctx.journey.system
    kills = 0
    for i in (0, 1):
        await asyncio.sleep(SCALE.kill_gap_s)
        victims = [
            w[i]
            for s in ("ledger", "wallet-pass", "notification", "partner-gateway", "tenant")
            if (w := system.workers(s))
        ]
        for proc in victims:
            proc.kill()
            kills += 1
        await asyncio.sleep(SCALE.kill_gap_s)
        for proc in victims:
            proc.start()
    return f"{kills} workers SIGKILLed and restarted"


async def postgres_restart(ctx: Context) -> str:
    """PostgreSQL restarted: the ledger's database and, the server being shared,
    the other four services' too."""
    system = ctx.journey.system
    ended, _ = await _outage(system.pg, SCALE.postgres_s, system.terminate_sessions)
    return f"PostgreSQL (all 5 databases) away {SCALE.postgres_s:.0f}s; {ended} sessions terminated"


async def redis_restart(ctx: Context) -> str:
    system = ctx.journey.system
    lost, _ = await _outage(system.redis, SCALE.redis_s, system.flush_redis)
    return f"Redis away {SCALE.redis_s:.0f}s and emptied ({lost} keys)"


async def _apns(token: str, status: int, times: int | None, control: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{control}/responses", json={"token": token, "status": status, "times": times})
        r.raise_for_status()


async def apns_errors(ctx: Context) -> str:
    """Every device gets 500s then 429s; then one device of every two-device member answers 410."""
    control = ctx.journey.system.fakes["apns-control"]
    tokens = [d.token for m in ctx.journey.members for d in m.devices if d.token not in ctx.gone]
    for token in tokens:
        await _apns(token, 500, SCALE.apns_failures, control)
        await _apns(token, 429, SCALE.apns_failures, control)
    await asyncio.sleep(SCALE.broker_s)
    owners = [m for m in ctx.journey.members if len(m.devices) > 1 and m.devices[0].token not in ctx.gone]
    gone = [m.devices[0].token for m in owners]
    for token in gone:
        await _apns(token, 410, None, control)
        ctx.gone.add(token)
    for member in owners:  # a change after the 410, so APNs is asked (and says the device is gone)
        await ctx.journey.partner(
            "POST", f"/v1/members/{member.id}/earn", {"points": 1}, key=f"after-410-{member.id}"
        )
    async with httpx.AsyncClient(timeout=10) as http:
        rejected = (await http.get(f"{control}/pushes/count")).json()["rejected"]
    return (
        f"{len(tokens)} tokens answered 500/429 x{SCALE.apns_failures}, then {len(gone)} tokens 410;"
        f" {rejected} pushes rejected so far"
    )


async def google_429(ctx: Context) -> str:
    google = ctx.journey.system.fakes["google"]
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{google}/fake/failures", json=[429] * SCALE.google_failures)
        r.raise_for_status()
        left = SCALE.google_failures
        for _ in range(int(SCALE.broker_s * 10)):  # until they are used up, or while the load lasts
            await asyncio.sleep(0.5)
            left = (await http.post(f"{google}/fake/failures", json=[])).json()["pending"]
            if not left:
                break
    return f"{SCALE.google_failures - left} Google calls answered 429"


async def webhook_down_slow_up(ctx: Context) -> str:
    """Down as a real endpoint goes down: first nothing listens (connections refused), then its
    server is back but answers 503; then slow; then up."""
    receiver = ctx.receivers["flaky"]
    refused, answered = await _refused_connections(ctx, receiver), receiver.refused
    await receiver.close()
    await asyncio.sleep(SCALE.webhook_down_s / 2)
    receiver.mode = "down"
    await receiver.open()
    await asyncio.sleep(SCALE.webhook_down_s / 2)
    receiver.slow_s = SCALE.webhook_slow_s
    receiver.mode = "slow"
    await asyncio.sleep(SCALE.webhook_slow_for_s)
    receiver.mode = "up"
    refused = await _refused_connections(ctx, receiver) - refused
    return (
        f"endpoint down {SCALE.webhook_down_s:.0f}s ({refused} connections refused,"
        f" {receiver.refused - answered} answered 503), slow {SCALE.webhook_slow_s:.0f}s/answer, up"
    )


async def _refused_connections(ctx: Context, receiver: Receiver) -> int:
    """Attempts to `receiver` the gateway recorded as refused at connect (nothing listened, so only
    the gateway's side can count them)."""
    from .checker import _fetch

    rows = await _fetch(
        ctx.journey.system.databases["partner-gateway"],
        "SELECT count(*) AS n FROM webhook_attempts a"
        " JOIN webhook_deliveries d ON d.id = a.delivery_id"
        " JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " WHERE starts_with(e.url, $1) AND a.error LIKE 'ConnectError: ConnectionRefusedError%'",
        receiver.url,
    )
    return int(rows[0]["n"])


async def smtp_refusing(ctx: Context) -> str:
    """The SMTP sink answers 451 to the next N messages, and the SMS provider 503 to the next N."""
    fakes = ctx.journey.system.fakes
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{fakes['smtp-http']}/refuse", json={"count": SCALE.smtp_refusals})
        r.raise_for_status()
        r = await http.post(f"{fakes['sms']}/refuse", json={"count": SCALE.smtp_refusals})
        r.raise_for_status()
        await asyncio.sleep(SCALE.broker_s)
        stats = (await http.get(f"{fakes['smtp-http']}/stats")).json()
    sms = f"SMS provider refusing the next {SCALE.smtp_refusals} (503)"
    return f"SMTP sink refused {stats['refused']} (451), {sms}"


async def combined(ctx: Context) -> str:
    parts = await asyncio.gather(
        broker_cut(ctx),
        worker_sigkill(ctx),
        postgres_restart(ctx),
        redis_restart(ctx),
        apns_errors(ctx),
        google_429(ctx),
        webhook_down_slow_up(ctx),
        smtp_refusing(ctx),
    )
    return "; ".join(p.split(";")[0] for p in parts)


# The phases where a worker cannot record an outcome it got — killed (SIGKILL), or its database away
# (PostgreSQL restart) for longer than the dispatcher holds a refused record (80 % of the lease, 16 s
# here; the long scale's outage is 20 s) — so the delivery goes again under the same webhook-id when
# its lease ends: only there may a webhook-id be re-sent (checker.py says why).
KILLS: set[Fault] = {worker_sigkill, postgres_restart, combined}

PHASES: list[tuple[str, Fault]] = [
    ("none (baseline)", no_fault),
    ("RabbitMQ cut + restored", broker_cut),
    ("workers SIGKILL + restart", worker_sigkill),
    ("PostgreSQL restart (ledger + all)", postgres_restart),
    ("Redis restart (emptied)", redis_restart),
    ("APNs 500/429, then 410", apns_errors),
    ("Google 429", google_429),
    ("webhook down, slow, up", webhook_down_slow_up),
    ("SMTP sink refusing", smtp_refusing),
    ("all of the above at once", combined),
]
