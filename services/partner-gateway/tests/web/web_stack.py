"""The real services the web tests drive: each built by its own build_app, served by uvicorn on an
ephemeral port with a database from make_db, and the gateway (with the web routes) pointed at them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_partner_gateway.app import build_app as build_gateway
from nujoomy_partner_gateway.bff import web_route_handlers
from nujoomy_partner_gateway.settings import Settings as GatewaySettings

ROOT = Path(__file__).resolve().parents[4]
PASSWORD = "correct horse battery"


@contextlib.asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """Serves `app` on 127.0.0.1:<ephemeral> from its own thread and event loop (so a test client
    that blocks the test's loop cannot starve it); yields its base URL. Lifespan runs inside uvicorn."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)


def gateway_app(settings: GatewaySettings) -> Litestar:
    """The gateway as deployed, plus the web routes (registered here until api/__init__ lists them)."""
    app = build_gateway(settings)
    registered = {getattr(r, "path", None) for r in app.routes}
    if "/app/login" not in registered:
        for handler in web_route_handlers():
            app.register(handler)
    return app


class Business(msgspec.Struct):
    tenant_id: Any
    program_id: Any
    slug: str
    owner_email: str


async def create_business(tenant_db_url: str, slug: str) -> Business:
    from nujoomy_tenant import provisioning

    engine = make_engine(tenant_db_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            created = await provisioning.create_tenant(
                db,
                provisioning.NewTenant(
                    slug=slug, name=slug.title(), owner_email=f"owner@{slug}.test", owner_password=PASSWORD
                ),
                invite_ttl=3600,
            )
    finally:
        await engine.dispose()
    return Business(created.tenant_id, created.program_id, slug, f"owner@{slug}.test")


async def add_staff(tenant_db_url: str, business: Business, email: str, role: str) -> None:
    from nujoomy_tenant import provisioning

    engine = make_engine(tenant_db_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            await provisioning.invite_staff(
                db, business.tenant_id, email=email, name=role.title(), role=role, invite_ttl=3600, password=PASSWORD
            )
    finally:
        await engine.dispose()
