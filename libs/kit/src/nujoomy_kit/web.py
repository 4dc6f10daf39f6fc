"""The common frame of every service app: problem handlers, health, metrics, request logging."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from prometheus_client import CollectorRegistry

from nujoomy_kit.health import Check, close_checks, health_handlers
from nujoomy_kit.metrics import HttpMetrics, metrics_handler
from nujoomy_kit.problems import exception_handlers

# The largest request body any service reads (Litestar's request_max_body_size; the partner
# gateway's edge applies the same limit to the bodies it reads itself).
MAX_BODY = 1_048_576


def service_app(
    *,
    service: str,
    route_handlers: Sequence[Any],
    ready_checks: Mapping[str, Check],
    lifespan: Sequence[Callable[[Litestar], AbstractAsyncContextManager[None]]] = (),
    dependencies: Mapping[str, Provide] | None = None,
    middleware: Sequence[Any] = (),
    openapi_title: str | None = None,
    openapi_description: str | None = None,
    state: Mapping[str, Any] | None = None,
    debug: bool = False,
    cors: CORSConfig | None = None,
    request_max_body_size: int = MAX_BODY,
    **extra: Any,
) -> Litestar:
    registry = CollectorRegistry()
    http_metrics = HttpMetrics(service, registry)
    from litestar.datastructures import State

    app_state = State(dict(state or {}))
    app_state["metrics_registry"] = registry

    @asynccontextmanager
    async def checks_lifespan(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await close_checks(ready_checks)

    return Litestar(
        route_handlers=[*health_handlers(ready_checks), metrics_handler(registry), *route_handlers],
        exception_handlers=exception_handlers(),
        lifespan=[checks_lifespan, *lifespan],
        dependencies=dict(dependencies or {}),
        middleware=[http_metrics.middleware, *middleware],
        openapi_config=OpenAPIConfig(
            title=openapi_title or f"Nujoomy {service}",
            version="1.0.0",
            description=openapi_description,
            path="/schema",
            render_plugins=[ScalarRenderPlugin(path="/docs")],
        ),
        state=app_state,
        debug=debug,
        cors_config=cors,
        request_max_body_size=request_max_body_size,
        **extra,
    )
