"""Serving an app: uvicorn with uvloop and httptools, one process per service."""

from __future__ import annotations

from litestar import Litestar


def serve(app: Litestar, host: str, port: int, log_level: str = "warning") -> None:
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        timeout_graceful_shutdown=10,
        # uvicorn would otherwise rewrite the client address from X-Forwarded-For whenever the peer is
        # 127.0.0.1; which proxies to believe is the app's call (e.g. NUJOOMY_WEB_TRUSTED_PROXIES).
        proxy_headers=False,
    )
