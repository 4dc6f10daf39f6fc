"""The real services the web tests drive: each built by its own build_app, served by uvicorn on an
ephemeral port with a database from make_db, and the gateway (with the web routes) pointed at them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_partner_gateway.app import build_app as build_gateway
from nujoomy_partner_gateway.bff import web_route_handlers
from nujoomy_partner_gateway.settings import Settings as GatewaySettings
from nujoomy_testing.servers import served

ROOT = Path(__file__).resolve().parents[4]
PASSWORD = "correct horse battery"


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


async def create_business(tenant_db_url: str, slug: str, *, country: str | None = None) -> Business:
    from nujoomy_tenant import provisioning

    engine = make_engine(tenant_db_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            created = await provisioning.create_tenant(
                db,
                provisioning.NewTenant(
                    slug=slug,
                    name=slug.title(),
                    owner_email=f"owner@{slug}.test",
                    owner_password=PASSWORD,
                    country=country,
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
                db,
                business.tenant_id,
                email=email,
                name=role.title(),
                role=role,
                invite_ttl=3600,
                password=PASSWORD,
            )
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def working(worker: Any) -> AsyncIterator[Any]:
    """Runs a service's Worker (outbox relay + consumers) in its own thread and loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(worker.run(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not worker.started.is_set():
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the {worker.service} worker did not start")
        await asyncio.sleep(0.02)
    try:
        yield worker
    finally:
        loop.call_soon_threadsafe(worker.stop)
        await asyncio.to_thread(thread.join, 15)
        loop.close()


class Stack(msgspec.Struct):
    tenant_url: str
    ledger_url: str
    wallet_pass_url: str
    tenant_db: str
    # for a test that also runs wallet-pass's worker (its projection of members, for pass downloads)
    wallet_settings: Any = None
    ledger_db: str = ""  # for tests that wait on or load the ledger's rows directly


@contextlib.asynccontextmanager
async def full_stack(
    *, tenant_db: str, ledger_db: str, wallet_db: str, common: dict[str, Any], wallet_dir: Path
) -> AsyncIterator[Stack]:
    """tenant (api + relay), ledger (api + consumers), wallet-pass (api): the services the pages call."""
    from nujoomy_ledger.app import build_app as build_ledger
    from nujoomy_ledger.settings import load as load_ledger
    from nujoomy_ledger.worker import build_worker as ledger_worker
    from nujoomy_tenant.app import build_app as build_tenant
    from nujoomy_tenant.settings import load as load_tenant
    from nujoomy_tenant.worker import build_worker as tenant_worker
    from nujoomy_wallet_pass import devcerts
    from nujoomy_wallet_pass.app import build_app as build_wallet
    from nujoomy_wallet_pass.settings import load as load_wallet

    prefix = common["redis_prefix"]
    tenant_settings = load_tenant({}, **{**common, "redis_prefix": prefix + "t:"}, database_url=tenant_db)
    async with served(build_tenant(tenant_settings)) as tenant_url, working(tenant_worker(tenant_settings)):
        shared = {**common, "tenant_url": tenant_url}
        ledger_settings = load_ledger({}, **{**shared, "redis_prefix": prefix + "l:"}, database_url=ledger_db)
        # Apple and Google are the outside world: links need their identifiers, never their servers here.
        env = devcerts.wallet_env(
            wallet_dir, "https://127.0.0.1:9", "http://127.0.0.1:9/wo", "http://127.0.0.1:9/t"
        )
        wallet_settings = load_wallet(
            env,
            **{**shared, "redis_prefix": prefix + "w:"},
            database_url=wallet_db,
            public_url="https://loyalty.example",
        )
        async with (
            served(build_ledger(ledger_settings)) as ledger_url,
            working(ledger_worker(ledger_settings)),
            served(build_wallet(wallet_settings)) as wallet_url,
        ):
            yield Stack(tenant_url, ledger_url, wallet_url, tenant_db, wallet_settings, ledger_db)
