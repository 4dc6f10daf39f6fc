"""The common frame of every service app: problem handlers, health, metrics, request logging."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from prometheus_client import CollectorRegistry

from nujoomy_kit.health import Check, health_handlers
from nujoomy_kit.metrics import HttpMetrics, metrics_handler
from nujoomy_kit.problems import exception_handlers


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
    request_max_body_size: int = 1_048_576,
    **extra: Any,
) -> Litestar:
    registry = CollectorRegistry()
    http_metrics = HttpMetrics(service, registry)
    from litestar.datastructures import State

    app_state = State(dict(state or {}))
    app_state["metrics_registry"] = registry
    return Litestar(
        route_handlers=[*health_handlers(ready_checks), metrics_handler(registry), *route_handlers],
        exception_handlers=exception_handlers(),
        lifespan=list(lifespan),
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
