"""`/health/live` (no I/O: the process answers) and `/health/ready` (every dependency answers).

Readiness runs its checks concurrently, each with a deadline, and answers 503 with a JSON body that
names what is down ("ok" or "failed" per check); why it failed goes to the log only, since the
error text of a driver can carry host names, addresses and versions that are nobody else's business.
The broker check reuses one long-lived connection (a probe every few seconds must not open and
tear down an AMQP connection each time) and reconnects only when that connection has failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
import structlog
from litestar import Response, get
from litestar.datastructures import State

Check = Callable[[State], Awaitable[None]]

log = structlog.get_logger("nujoomy.health")


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


async def run_checks(checks: Mapping[str, Check], state: State, timeout: float = 3.0) -> Readiness:
    async def one(name: str, check: Check) -> str:
        try:
            await asyncio.wait_for(check(state), timeout)
        except TimeoutError:
            log.warning("readiness_check_failed", check=name, error="timed out")
            return "failed"
        except Exception as exc:  # a readiness probe reports any failure, it never raises
            log.warning("readiness_check_failed", check=name, error=repr(exc)[:300])
            return "failed"
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(n, checks[n]) for n in names))
    states = dict(zip(names, results, strict=True))
    healthy = all(v == "ok" for v in states.values())
    return Readiness(status="ok" if healthy else "unavailable", checks=states)


def health_handlers(checks: Mapping[str, Check]) -> list[Any]:
    @get("/health/live", include_in_schema=False, sync_to_thread=False)
    def live() -> dict[str, str]:
        return {"status": "ok"}

    @get("/health/ready", include_in_schema=False)
    async def ready(state: State) -> Response[Readiness]:
        result = await run_checks(checks, state)
        return Response(result, status_code=200 if result.status == "ok" else 503)

    return [live, ready]


async def database_check(state: State) -> None:
    from nujoomy_kit.db import ping

    await ping(state["engine"])


class BrokerCheck:
    """The broker answers: one connection kept for the app's life, a channel opened and closed on it
    per probe (one round trip). A failed connection is dropped; the next probe opens a new one."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: Any = None
        self._lock = asyncio.Lock()

    async def __call__(self, _: State) -> None:
        async with self._lock:  # concurrent probes share the one connection
            try:
                if self._connection is None or self._connection.is_closed:
                    import aio_pika

                    self._connection = await aio_pika.connect(self._url, timeout=2)
                channel = await self._connection.channel(publisher_confirms=False)
                await channel.close()
            except BaseException:
                await self.aclose()
                raise

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)


def broker_check(url: str) -> BrokerCheck:
    return BrokerCheck(url)


async def close_checks(checks: Mapping[str, Check]) -> None:
    """At shutdown: release what a check holds (the broker check's connection)."""
    for check in checks.values():
        if isinstance(check, BrokerCheck):
            await check.aclose()


async def redis_check(state: State) -> None:
    await state["redis"].ping()
