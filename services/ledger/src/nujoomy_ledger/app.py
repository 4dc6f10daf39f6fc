"""build_app(settings) -> the ledger service's Litestar app. Nothing happens at import."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide
from nujoomy_kit.auth import provide_principal
from nujoomy_kit.health import broker_check, database_check
from nujoomy_kit.lifespan import core_lifespan, provide_db
from nujoomy_kit.resources import token_verifier
from nujoomy_kit.tokens import TokenVerifier
from nujoomy_kit.web import service_app

from nujoomy_ledger.api import route_handlers
from nujoomy_ledger.auth_cache import CachingVerifier
from nujoomy_ledger.settings import SERVICE, Settings


def build_app(settings: Settings, *, verifier: TokenVerifier | None = None) -> Litestar:
    verifier = CachingVerifier(verifier or token_verifier(settings, SERVICE))
    return service_app(
        service=SERVICE,
        route_handlers=route_handlers(),
        ready_checks={
            "database": database_check,
            "broker": broker_check(settings.amqp_url),
        },
        lifespan=[core_lifespan(settings, SERVICE, use_redis=False, verifier=verifier)],
        dependencies={"db": Provide(provide_db), "principal": Provide(provide_principal)},
        state={"settings": settings},
        debug=settings.dev_mode,
        openapi_title="Nujoomy ledger",
        openapi_description="Members, cards and the double-entry points ledger",
    )
