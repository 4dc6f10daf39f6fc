"""build_app(settings) -> the partner-gateway service's Litestar app. Nothing happens at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from nujoomy_kit.auth import provide_principal
from nujoomy_kit.db import plain_url
from nujoomy_kit.health import broker_check, database_check, redis_check
from nujoomy_kit.lifespan import core_lifespan, provide_db
from nujoomy_kit.tokens import TokenVerifier
from nujoomy_kit.web import MAX_BODY, service_app

from nujoomy_partner_gateway.api import route_handlers
from nujoomy_partner_gateway.bff.middleware import strict_transport_middleware
from nujoomy_partner_gateway.db.reads import Reads
from nujoomy_partner_gateway.downstream import Downstream
from nujoomy_partner_gateway.edge.idempotency import IdempotencyStore
from nujoomy_partner_gateway.edge.keystore import KeyStore
from nujoomy_partner_gateway.edge.middleware import Edge
from nujoomy_partner_gateway.edge.ratelimit import RateLimiter
from nujoomy_partner_gateway.settings import SERVICE, Settings


def edge_lifespan(settings: Settings, edge: Edge):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        client = app.state["redis"]
        keys = KeyStore(app.state["sessions"], client, settings.redis_prefix)
        keys.ttl = settings.key_cache_ttl
        edge.keys = keys
        edge.limiter = RateLimiter(client, settings.redis_prefix)
        edge.idempotency = IdempotencyStore(client, settings.redis_prefix)
        edge.verifier = app.state["token_verifier"]
        app.state["keys"] = keys
        reads = await Reads.open(plain_url(settings.database_url), settings.read_pool_size)
        app.state["reads"] = reads
        downstream = Downstream(settings, app.state["internal_issuer"])
        app.state["downstream"] = downstream
        tasks = [
            asyncio.create_task(keys.listen(), name="api-key-invalidations"),
            asyncio.create_task(
                keys.flush_forever(settings.last_used_flush_seconds), name="api-key-last-used"
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            # Shutdown must end: a background task that ignores its cancellation is abandoned.
            await asyncio.wait(tasks, timeout=5)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(keys.flush_last_used(), 5)
            await downstream.aclose()
            await reads.aclose()

    return lifespan


def build_app(settings: Settings, *, verifier: TokenVerifier | None = None) -> Litestar:
    edge = Edge(
        fail_closed=settings.rate_limit_fail_closed,
        default_max_in_flight=settings.max_in_flight,
        max_body=MAX_BODY,
    )
    app = service_app(
        service=SERVICE,
        route_handlers=route_handlers(),
        ready_checks={
            "database": database_check,
            "broker": broker_check(settings.amqp_url),
            "redis": redis_check,
        },
        lifespan=[
            core_lifespan(settings, SERVICE, use_redis=True, verifier=verifier),
            edge_lifespan(settings, edge),
        ],
        dependencies={"db": Provide(provide_db), "principal": Provide(provide_principal)},
        # HSTS outermost: the edge's own refusals (401, 429) carry it too.
        middleware=[strict_transport_middleware, edge.middleware],
        state={"settings": settings, "edge": edge},
        debug=settings.dev_mode,
        openapi_title="Nujoomy partner API",
        openapi_description=OPENAPI_DESCRIPTION,
    )
    edge.bind_metrics(app.state["metrics_registry"])
    return app


OPENAPI_DESCRIPTION = """\
The Nujoomy partner API. Authenticate with `Authorization: Bearer nj_live_…` (or `nj_test_…` for the
test plane: test keys only ever see test data). Errors are RFC 9457 `application/problem+json` with a
stable `code`. Every response carries `RateLimit-Policy` and `RateLimit` headers; a 429 carries
`Retry-After`. Send `Idempotency-Key` on every POST to retry safely. Webhooks are signed per Standard
Webhooks v1. Internal routes (`/internal/v1/*`) are for the platform itself."""
