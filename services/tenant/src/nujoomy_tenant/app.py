"""build_app(settings) -> the tenant service's Litestar app. Nothing happens at import."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from nujoomy_kit.auth import provide_principal
from nujoomy_kit.db import transaction
from nujoomy_kit.health import broker_check, database_check, redis_check
from nujoomy_kit.lifespan import core_lifespan, provide_db
from nujoomy_kit.settings import read_keyset
from nujoomy_kit.tokens import JwksCache, SuspendedTenants, TokenVerifier, load_private_key, public_jwk
from nujoomy_kit.web import service_app

from nujoomy_tenant.api import route_handlers
from nujoomy_tenant.db import keys as key_db
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import passwords
from nujoomy_tenant.settings import SERVICE, Settings


def local_verifier(settings: Settings, app_ref: list[Litestar]) -> TokenVerifier:
    """The tenant service verifies staff tokens from its own tables rather than over HTTP to itself:
    the same JWKS document and the same suspended list it serves to everyone else."""

    async def jwks() -> dict[str, Any]:
        async with transaction(app_ref[0].state["sessions"]) as db:
            rows = await key_db.published_keys(
                db, datetime.now(UTC), timedelta(seconds=settings.key_overlap_seconds)
            )
        return {"keys": [public_jwk(load_private_key(r["private_pem"]).public_key(), r["kid"]) for r in rows]}

    async def suspended() -> list[uuid.UUID]:
        async with transaction(app_ref[0].state["sessions"]) as db:
            return await tenant_db.suspended_tenant_ids(db)

    return TokenVerifier(
        service=SERVICE,
        callers=read_keyset(settings.internal_keyset),
        jwks=JwksCache(jwks),
        suspended=SuspendedTenants(suspended, ttl=settings.suspended_cache_seconds),
    )


def signing_key_lifespan() -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # A key exists before the first JWKS request, so verifiers never cache an empty document.
        async with transaction(app.state["sessions"]) as db:
            await key_db.ensure_key(db)
        yield

    return lifespan


def build_app(settings: Settings, *, verifier: TokenVerifier | None = None) -> Litestar:
    passwords.configure(settings.argon2_time_cost, settings.argon2_memory_kib)
    app_ref: list[Litestar] = []  # the verifier's fetchers need the app's sessions, made at start-up
    app = service_app(
        service=SERVICE,
        route_handlers=route_handlers(),
        ready_checks={
            "database": database_check,
            "broker": broker_check(settings.amqp_url),
            "redis": redis_check,
        },
        lifespan=[
            core_lifespan(
                settings, SERVICE, use_redis=True, verifier=verifier or local_verifier(settings, app_ref)
            ),
            signing_key_lifespan(),
        ],
        dependencies={"db": Provide(provide_db), "principal": Provide(provide_principal)},
        state={"settings": settings},
        debug=settings.dev_mode,
        openapi_title="Nujoomy tenant",
        openapi_description="Businesses, branded programs, staff and sign-in",
        # Image uploads (the limit itself is checked with a clear problem in domain/images.py).
        request_max_body_size=settings.max_image_bytes + 64 * 1024,
    )
    app_ref.append(app)
    return app
