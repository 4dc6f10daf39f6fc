from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from nujoomy_kit.db import make_engine
from nujoomy_testing.proxy import TcpProxy
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest.fixture
async def proxied(pg_url: str) -> AsyncIterator[tuple[TcpProxy, AsyncEngine]]:
    """An engine with one connection that reaches PostgreSQL through a proxy the test can cut."""
    target = urlsplit(pg_url)
    proxy = await TcpProxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    engine = make_engine(proxy.url_for(pg_url), pool_size=1, max_overflow=0)
    try:
        yield proxy, engine
    finally:
        await engine.dispose()
        await proxy.close()
