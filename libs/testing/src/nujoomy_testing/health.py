"""The health contract every service app keeps, as reusable checks for each service's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from nujoomy_testing.proxy import TcpProxy


async def assert_live_ready_and_metrics(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"].values()) == {"ok"}
    metrics = await client.get("/metrics")
    assert "http_requests_total" in metrics.text


async def assert_ready_follows_the_database(build_app: Callable[[Any], Litestar], settings: Any) -> None:
    """Ready while the database answers, 503 naming it while it does not, ready again after."""
    target = urlparse(settings.database_url)
    proxy = await TcpProxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    try:
        cut = msgspec.structs.replace(settings, database_url=proxy.url_for(settings.database_url))
        async with AsyncTestClient(app=build_app(cut)) as client:
            before = await client.get("/health/ready")
            assert before.status_code == 200, before.text
            proxy.drop()
            down = await client.get("/health/ready")
            assert down.status_code == 503, down.text
            # The check's name and "failed", nothing of the driver's error text.
            assert down.json()["checks"]["database"] == "failed"
            assert down.json()["checks"]["broker"] == "ok"
            assert set(down.json()["checks"].values()) <= {"ok", "failed"}
            proxy.restore()
            back = await client.get("/health/ready")
            assert back.status_code == 200, back.text
    finally:
        await proxy.close()
