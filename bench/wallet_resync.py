"""A branding change on a program with 10,000 installed passes (one device each): time from
publishing tenant.program.updated until the APNs fake has acknowledged every push."""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg
import httpx

from bench.report import table
from bench.wallet_setup import TENANT, bench_program, publish, publisher, rig

NAME = "wallet_resync"
DESCRIPTION = "branding change on 10,000 installed passes -> all pushes acknowledged (--quick 2,000)"


async def run(args: argparse.Namespace) -> None:
    from nujoomy_contracts import new_envelope
    from nujoomy_contracts.tenant import PROGRAM_UPDATED
    from nujoomy_kit.db import plain_url

    count = 2000 if args.quick else 10_000
    async with rig(count) as r:
        conn, exchange = await publisher(r.settings)
        program = bench_program(2, "#C0392B", "b2")
        started = time.monotonic()
        await publish(exchange, new_envelope(PROGRAM_UPDATED, program, tenant_id=TENANT, mode="live"))
        await conn.close()
        first = None
        async with httpx.AsyncClient(base_url=r.apns_control, timeout=30) as control:
            while time.monotonic() - started < 300:
                n = (await control.get("/pushes/count")).json()["count"]
                if n and first is None:
                    first = time.monotonic() - started
                if n >= count:
                    break
                await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        db = await asyncpg.connect(plain_url(r.settings.database_url))
        try:
            progress = await db.fetchrow(
                "SELECT total, pushed FROM program_resyncs ORDER BY started_at DESC LIMIT 1"
            )
        finally:
            await db.close()
        table(
            ["passes", "first push s", "all acknowledged s", "pushes/s", "progress total/pushed"],
            [
                (
                    count,
                    f"{first or 0:.2f}",
                    f"{elapsed:.1f}",
                    f"{n / elapsed:.0f}",
                    f"{progress[0]}/{progress[1]}",
                )
            ],
        )
        print("goal: < 20 s for 10,000")
