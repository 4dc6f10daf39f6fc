"""The reliability suite over the WHOLE system: all five services' APIs and workers as
processes (two replicas of every worker and of the gateway API), the fakes of Apple, Google, the
mail server and the SMS provider, RabbitMQ / Redis / the ledger's PostgreSQL behind proxies a fault
cuts (stack.py); a load generator doing the full journey through the partner and staff APIs
(journey.py); faults one at a time, then all at once (faults.py); after each, the checker
(checker.py) proves nothing was lost or done twice, and the time it took to get there.

It prints the table: fault, requests made, requests failed (and with what), events lost, duplicate
effects, time to converge, and what shows the fault bit. NUJOOMY_CHAOS_SCALE=long (`make chaos`)
makes the faults as long as production may see them.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served

from .checker import Report, converge, dead_letters
from .faults import KILLS, PHASES, SCALE, Context, Fault
from .journey import start_journey
from .receiver import Receiver
from .replay import dead_letter_replay, now, observe, revive, webhook_replay
from .stack import LONG, running_system

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("system"),
    pytest.mark.timeout(7200 if LONG else 1800),
]

# After a worker SIGKILL the claimed work waits out its lease (wallet-pass jobs: 60 s) and then a
# retry backoff: the short run measured up to ~100 s on the 2-core machine.
CONVERGE_TIMEOUT = 900.0 if LONG else 300.0


def selected(phases: list[tuple[str, Fault]]) -> list[tuple[str, Fault]]:
    """NUJOOMY_CHAOS_FAULTS=0,1,5 runs only those phases (by index; for working on one fault)."""
    only = os.environ.get("NUJOOMY_CHAOS_FAULTS")
    if not only:
        return phases
    return [phases[int(i)] for i in only.split(",")]


def _row(
    fault: str, requests: int, failed: dict[str, int], report: Report, seconds: float, evidence: str
) -> str:
    lost = sum(report.lost.values())
    dup = sum(report.duplicates.values())
    what = ", ".join(f"{k}: {v}" for k, v in sorted(failed.items())) or "-"
    return f"| {fault} | {requests} | {what} | {lost} | {dup} | {seconds:.1f} | {evidence} |"


async def test_whole_system_under_faults(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tmp_path: Path,
) -> None:
    rows: list[str] = []
    flaky, steady, retired = Receiver(), Receiver(), Receiver()
    retired.mode = "gone"  # answers 410 from the first event: disabled, then revived and replayed
    async with (
        flaky.serving() as flaky_url,
        served(steady) as steady_url,
        served(retired) as retired_url,
        running_system(make_db, amqp_url, redis_url, redis_prefix, topology, tmp_path) as system,
    ):
        receivers = {"flaky": flaky, "steady": steady}
        await observe(system)
        began = now()
        hooks = [f"{flaky_url}/flaky", f"{steady_url}/steady", f"{retired_url}/retired"]
        journey = await start_journey(system, hooks, SCALE.members)
        ctx = Context(journey, receivers)
        for name, fault in selected(PHASES):
            journey.tally.requests, journey.tally.failed = 0, journey.tally.failed.__class__()
            seconds = max(SCALE.broker_s, 3.0) + 1
            load = asyncio.create_task(journey.load(name.split()[0], SCALE.rounds, seconds))
            evidence = await fault(ctx)
            await load
            started = time.monotonic()
            restarts = sum(p.restarts for p in system.procs.values())
            # A same-id re-send is allowed in a phase that kills workers, and only there.
            excused = None if fault in KILLS else ctx.excused
            report, _, waited = await converge(journey, receivers, ctx.gone, CONVERGE_TIMEOUT, excused)
            if fault in KILLS:
                resent = report.resent - ctx.excused
                ctx.excused |= report.resent
                if resent:
                    evidence += f"; {len(resent)} webhook-ids re-sent after the kill (same id)"
            restarted = sum(p.restarts for p in system.procs.values()) - restarts
            if restarted:  # processes that exited on their own and the supervisor started again
                evidence += f"; {restarted} exits restarted"
            if waited:  # the slowest lags, by polls outstanding
                evidence += f"; waited on {', '.join(k for k, _ in waited.most_common(3))}"
            took = time.monotonic() - started
            rows.append(
                _row(name, journey.tally.requests, dict(journey.tally.failed), report, took, evidence)
            )
            print(rows[-1], flush=True)
            detail = f"{name}: lost {dict(+report.lost)}, dup {dict(+report.duplicates)}, {report.unsound}\n"
            assert report.converged, detail + system.tail()
            assert sum(report.duplicates.values()) == 0, detail
            assert report.facts["dead letters"] == {}, f"{name}: {report.facts['dead letters']}"
        letters = await dead_letters(journey)
        # The operator's replay of dead letters: drained, and a no-op for events already applied.
        drill = await dead_letter_replay(system)
        # The retired endpoint's partner enables it again and replays: every event, once per id.
        revived = await revive(journey, retired, hooks[2], began)
        receivers["retired"] = retired
        report, _, _ = await converge(journey, receivers, ctx.gone, CONVERGE_TIMEOUT, ctx.excused)
        assert report.converged, report
        assert sum(report.duplicates.values()) == 0, report.duplicates
        assert report.facts["dead letters"] == {}, report.facts["dead letters"]
        # The partner's replay: every event again, under the webhook-ids it already has.
        before, again, new = await webhook_replay(journey, flaky, hooks[0], began)
    head = (
        "| fault | requests | failed (with what) | events lost | duplicate effects | converge s | evidence |"
    )
    print("\n" + "\n".join([head, "|---|---|---|---|---|---|---|", *rows]))
    print(f"facts: {report.facts}")
    print(f"dlq drill: {drill['list']}{drill['replay']}")
    print(f"webhook replay: {again} of {before} webhook-ids delivered again, {new} new")
    print(
        f"410 endpoint: disabled after {revived['answered 410']} answers of 410, enabled and replayed"
        f" ({revived['replay']}): {report.facts['webhooks retired']} webhook-ids, each once"
    )
    assert sum(letters.values()) == 0
    listed = [line.split() for line in drill["list"].splitlines()]
    for consumer in drill["replay"]:  # the drill's dead letters were listed …
        assert any(consumer in row and row[-1] == "1" for row in listed), drill["list"]
    assert all("replayed 1 dead letter" in out for out in drill["replay"].values())  # … and replayed
    assert again == before
    assert new == 0
