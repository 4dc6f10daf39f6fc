"""`/health/live` (no I/O: the process answers) and `/health/ready` (every dependency answers).

Readiness runs its checks concurrently, each with a deadline, and answers 503 with a JSON body that
names what is down, so an operator (and `nujoomy status`) can see why without reading logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import msgspec
from litestar import Response, get

Check = Callable[[], Awaitable[None]]


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


async def run_checks(checks: Mapping[str, Check], timeout: float = 3.0) -> Readiness:
    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout)
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


def health_handlers(checks: Mapping[str, Check]) -> list[object]:
    @get("/health/live", include_in_schema=False, sync_to_thread=False)
    def live() -> dict[str, str]:
        return {"status": "ok"}

    @get("/health/ready", include_in_schema=False)
    async def ready() -> Response[Readiness]:
        result = await run_checks(checks)
        return Response(result, status_code=200 if result.status == "ok" else 503)

    return [live, ready]


async def amqp_ping(url: str) -> None:
    import aio_pika

    conn = await aio_pika.connect(url, timeout=2)
    await conn.close()


async def redis_ping(url: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()
