"""settle_as_finished: outcomes are recorded as they finish; a record the database refuses (it is
away) is written again once it is back, while the lease holds — not dropped for the lease to re-send."""

from __future__ import annotations

import asyncio

import pytest
from nujoomy_kit.db_errors import database_unavailable
from nujoomy_kit.settling import settle_as_finished
from nujoomy_testing.proxy import TcpProxy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class Recorder:
    """A `settle` that needs the database, as the dispatcher's and the sender's do."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.recorded: list[str] = []
        self.refused = 0

    async def __call__(self, outcomes: list[str]) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            self.refused += 1
            raise
        self.recorded.extend(outcomes)


async def answer(name: str, after: asyncio.Event) -> str:
    await after.wait()
    return name


async def test_an_outcome_refused_while_the_database_is_away_is_recorded_once_it_is_back(
    proxied: tuple[TcpProxy, AsyncEngine],
) -> None:
    proxy, engine = proxied
    record = Recorder(engine)
    quick, slow = asyncio.Event(), asyncio.Event()
    run = asyncio.create_task(
        settle_as_finished([answer("quick", quick), answer("slow", slow)], record, lease_s=30)
    )
    await record(["warm"])  # a pooled connection exists, and dies with the drop
    proxy.drop()
    quick.set()  # answered while the database is away: its record is refused
    while record.refused < 2:
        await asyncio.sleep(0.05)
    assert not run.done()  # still holding the outcome, the slow send not cancelled
    proxy.restore()
    while "quick" not in record.recorded:
        await asyncio.sleep(0.05)
    slow.set()
    await asyncio.wait_for(run, 10)
    assert record.recorded == ["warm", "quick", "slow"]


async def test_past_the_lease_the_refusal_is_raised_and_the_rest_cancelled(
    proxied: tuple[TcpProxy, AsyncEngine],
) -> None:
    proxy, engine = proxied
    record = Recorder(engine)
    quick, slow = asyncio.Event(), asyncio.Event()
    slow_send = asyncio.ensure_future(answer("slow", slow))
    proxy.drop()
    quick.set()
    with pytest.raises(Exception) as raised:
        await asyncio.wait_for(
            settle_as_finished([answer("quick", quick), slow_send], record, lease_s=2.0),
            10,
        )
    assert "quick" not in record.recorded
    assert record.refused >= 2  # tried again within the lease before giving up
    await asyncio.sleep(0)
    assert slow_send.cancelled()
    assert database_unavailable(raised.value), raised.value  # the refusal, not a test timeout
    proxy.restore()


async def test_an_error_that_is_not_the_database_away_is_raised_at_once() -> None:
    calls = 0

    async def broken(outcomes: list[str]) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug in the record, not an outage")

    done = asyncio.Event()
    done.set()
    with pytest.raises(ValueError):
        await settle_as_finished([answer("one", done)], broken, lease_s=30)
    assert calls == 1
