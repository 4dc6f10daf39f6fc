"""Scan → push: ledger.balance.changed published on RabbitMQ at a steady rate (as the ledger's relay
would), consumed by the wallet-pass worker (its own process), coalesced into an update job, pushed
over HTTP/2 to the APNs fake and PATCHed to the Google fake; latency from publish to the push
arriving at the fake (both clocks are this machine's)."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import defaultdict
from datetime import UTC, datetime

import asyncpg
import httpx

from bench.report import summary_ms, table
from bench.wallet_setup import TENANT, publish, publisher, rig

NAME = "wallet_push"
DESCRIPTION = "scan -> APNs push latency at 200 earns/s (60 s; --quick 10 s)"


async def run(args: argparse.Namespace) -> None:
    from nujoomy_contracts import new_envelope
    from nujoomy_contracts.ledger import BALANCE_CHANGED, BalanceChanged

    # WALLET_BENCH_RATE overrides the 200 earns/s target (to find the knee on a given machine).
    rate, seconds = int(os.environ.get("WALLET_BENCH_RATE", "200")), (10 if args.quick else 60)
    # Enough members that one card is scanned every 10 s: each earn is its own push (no coalescing).
    async with rig(2000) as r:
        conn, exchange = await publisher(r.settings)
        cpu_before = r.cpu_seconds()
        load_before = os.getloadavg()[0]
        sent: dict[str, list[float]] = defaultdict(list)
        sequence: dict[object, int] = defaultdict(int)
        total = rate * seconds
        started = time.time()
        for i in range(total):
            delay = started + i / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            member = r.members[i % len(r.members)]
            sequence[member] += 1
            event = new_envelope(
                BALANCE_CHANGED,
                BalanceChanged(
                    member_id=member,
                    account_id=member,
                    balance=10 * sequence[member],
                    lifetime_points=0,
                    sequence=sequence[member],
                    changed_at=datetime.now(UTC),
                ),
                tenant_id=TENANT,
                mode="live",
            )
            sent[r.tokens[member]].append(time.time())
            await publish(exchange, event)
        achieved = total / (time.time() - started)
        load_after = os.getloadavg()[0]
        await conn.close()
        async with httpx.AsyncClient(base_url=r.apns_control, timeout=60) as control:
            deadline = time.time() + 60
            while (await control.get("/pushes/count")).json()["count"] < total and time.time() < deadline:
                await asyncio.sleep(0.2)
            pushes = (await control.get("/pushes")).json()["pushes"]
        cpu_after = r.cpu_seconds()
        async with httpx.AsyncClient(base_url=r.google_url, timeout=60) as google:
            patches = (await google.get("/fake/stats")).json()["patches"]
        arrivals: dict[str, list[float]] = defaultdict(list)
        for push in pushes:
            arrivals[push["token"]].append(push["at"])
        latencies = [
            t1 - t0
            for token, times in sent.items()
            for t0, t1 in zip(sorted(times), sorted(arrivals.get(token, [])), strict=False)
        ]
        # Where the time goes: publish -> consumer applied (members.updated_at) for each member's last earn.
        from nujoomy_kit.db import plain_url

        db = await asyncpg.connect(plain_url(r.settings.database_url))
        try:
            applied = {
                row[0]: row[1].timestamp()
                for row in await db.fetch("SELECT member_id, updated_at FROM members")
            }
        finally:
            await db.close()
        consumed = [
            applied[m] - sent[r.tokens[m]][-1] for m in r.members if sent.get(r.tokens[m]) and m in applied
        ]
        print(f"publish -> consumer applied (last earn per card): {summary_ms(consumed)}")
        table(
            ["earns", "rate/s", "pushes", "google PATCHes", "latency publish->push"],
            [(total, f"{achieved:.0f}", len(pushes), patches, summary_ms(latencies))],
        )
        # CPU each process spent on the run: the cost per earn, whatever else the machine was doing.
        table(
            ["process", "CPU s", "CPU ms per earn"],
            [
                (
                    name,
                    f"{used - cpu_before.get(name, 0):.1f}",
                    f"{(used - cpu_before.get(name, 0)) * 1000 / total:.2f}",
                )
                for name, used in cpu_after.items()
            ],
        )
        print(f"load average (1 min) at start / end of publishing: {load_before:.1f} / {load_after:.1f}")
        print("goal: p99 < 500 ms")
