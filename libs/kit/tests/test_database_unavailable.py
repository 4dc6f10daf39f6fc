"""A request that needs the database while it is away answers 503 `database_unavailable` with
Retry-After (a client retries with the same Idempotency-Key), not 500; once it is back, 200."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from nujoomy_kit.problems import exception_handlers
from nujoomy_testing.proxy import TcpProxy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def app_on(engine: AsyncEngine) -> Litestar:
    @get("/now")
    async def now() -> dict[str, str]:
        async with engine.connect() as conn:
            return {"now": str((await conn.execute(text("SELECT now()"))).scalar_one())}

    return Litestar([now], exception_handlers=exception_handlers())


async def test_the_database_away_is_a_503_with_retry_after_then_200_again(
    proxied: tuple[TcpProxy, AsyncEngine],
) -> None:
    proxy, engine = proxied
    async with AsyncTestClient(app_on(engine)) as client:
        assert (await client.get("/now")).status_code == 200  # a pooled connection exists
        proxy.drop()  # the pooled connection dies and new ones are refused
        for _ in range(2):  # the dead pooled connection, then a refused new one
            away = await client.get("/now")
            assert away.status_code == 503, away.text
            assert away.headers["content-type"].startswith("application/problem+json")
            assert away.json()["code"] == "database_unavailable"
            assert away.headers["retry-after"] == "1"
        proxy.restore()
        assert (await client.get("/now")).status_code == 200


async def test_other_unexpected_errors_stay_500() -> None:
    @get("/boom")
    async def boom() -> None:
        raise TimeoutError("not the database")

    async with AsyncTestClient(Litestar([boom], exception_handlers=exception_handlers())) as client:
        answer = await client.get("/boom")
        assert answer.status_code == 500
        assert answer.json()["code"] == "internal_error"
