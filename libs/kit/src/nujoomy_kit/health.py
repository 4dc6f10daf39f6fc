"""`/health/live` (no I/O: the process answers) and `/health/ready` (every dependency answers).

Readiness runs its checks concurrently, each with a deadline, and answers 503 with a JSON body that
names what is down, so an operator (and `nujoomy status`) can see why without reading logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from litestar import Response, get
from litestar.datastructures import State

Check = Callable[[State], Awaitable[None]]


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


async def run_checks(checks: Mapping[str, Check], state: State, timeout: float = 3.0) -> Readiness:
    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(state), timeout)
        except TimeoutError:
            return "down: timed out"
        except Exception as exc:  # a readiness probe reports any failure, it never raises
            return f"down: {type(exc).__name__}: {exc}"[:300]
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(checks[n]) for n in names))
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


def broker_check(url: str) -> Check:
    async def check(_: State) -> None:
        import aio_pika

        conn = await aio_pika.connect(url, timeout=2)
        await conn.close()

    return check


async def redis_check(state: State) -> None:
    await state["redis"].ping()
