"""build_app(settings) -> the wallet-pass service's Litestar app. Nothing happens at import."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide
from nujoomy_kit.auth import provide_principal
from nujoomy_kit.health import broker_check, database_check, redis_check
from nujoomy_kit.lifespan import core_lifespan, provide_db, state_value
from nujoomy_kit.tokens import TokenVerifier
from nujoomy_kit.web import service_app

from nujoomy_wallet_pass.api import route_handlers
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.settings import SERVICE, Settings


def build_app(settings: Settings, *, verifier: TokenVerifier | None = None) -> Litestar:
    return service_app(
        service=SERVICE,
        route_handlers=route_handlers(),
        ready_checks={
            "database": database_check,
            "broker": broker_check(settings.amqp_url),
            "redis": redis_check,
        },
        lifespan=[core_lifespan(settings, SERVICE, use_redis=True, verifier=verifier)],
        dependencies={
            "db": Provide(provide_db),
            "principal": Provide(provide_principal),
            "wallet": Provide(state_value("wallet"), sync_to_thread=False),
        },
        state={"settings": settings, "wallet": WalletContext.from_settings(settings)},
        debug=settings.dev_mode,
        openapi_title="Nujoomy wallet-pass",
        openapi_description="Apple Wallet and Google Wallet passes that follow the ledger",
    )
