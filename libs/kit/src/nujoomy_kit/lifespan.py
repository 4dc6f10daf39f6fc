"""Start-up and shut-down of what every service app holds: database, token verifier, Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_kit.resources import database, internal_issuer, token_verifier
from nujoomy_kit.settings import ServiceSettings
from nujoomy_kit.tokens import TokenVerifier


def core_lifespan(
    settings: ServiceSettings,
    service: str,
    *,
    use_redis: bool = False,
    verifier: TokenVerifier | None = None,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine, sessions = database(settings)
        app.state["engine"] = engine
        app.state["sessions"] = sessions
        app.state["token_verifier"] = verifier or token_verifier(settings, service)
        app.state["internal_issuer"] = internal_issuer(settings, subject=service)
        redis_client = None
        if use_redis:
            import redis.asyncio as redis

            redis_client = redis.Redis.from_url(
                settings.redis_url, socket_timeout=2, socket_connect_timeout=2
            )
            app.state["redis"] = redis_client
        try:
            yield
        finally:
            if redis_client is not None:
                await redis_client.aclose()
            await engine.dispose()

    return lifespan


async def provide_db(state: State) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits when the handler returns, rolls back when it raises."""
    session: AsyncSession = state["sessions"]()
    try:
        # Litestar throws the handler's exception in here (rollback) and finishes this generator
        # after building the response but before sending it, so a failed commit is an error response.
        async with session.begin():
            yield session
    finally:
        await session.close()


def state_value(name: str) -> Callable[[State], Any]:
    def provide(state: State) -> Any:
        return state[name]

    return provide
