"""`nujoomy status` and `nujoomy db create|migrate`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from pathlib import Path

import httpx
from nujoomy_kit.db import create_database, run_migrations, with_database

from nujoomy_cli.registry import Registry, ServiceInfo
from nujoomy_cli.table import render


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("status", help="every service's readiness in one table")
    p.set_defaults(run=lambda a: asyncio.run(status(registry)))

    db = commands.add_parser("db", help="create and migrate the service databases")
    sub = db.add_subparsers(dest="db_command", required=True)
    p = sub.add_parser("create", help="create every service's database if it is missing")
    p.set_defaults(run=lambda a: asyncio.run(create_all(registry)))
    p = sub.add_parser("migrate", help="upgrade every service's database to its latest revision")
    p.set_defaults(run=lambda a: migrate_all(registry))


async def readiness(info: ServiceInfo) -> tuple[str, str]:
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            response = await client.get(f"{info.url}/health/ready")
        body = response.json()
        down = {k: v for k, v in body.get("checks", {}).items() if v != "ok"}
        detail = ", ".join(f"{k}: {v}" for k, v in down.items())
        return ("ready" if response.status_code == 200 else "not ready", detail)
    except (httpx.HTTPError, ValueError) as exc:
        return ("down", type(exc).__name__)


async def status(registry: Registry) -> int:
    infos = list(registry.services.values())
    results = await asyncio.gather(*(readiness(i) for i in infos))
    rows = [(i.name, i.url, state, detail) for i, (state, detail) in zip(infos, results, strict=True)]
    print(render(("service", "url", "state", "detail"), rows))
    return 0 if all(state == "ready" for state, _ in results) else 1


async def create_all(registry: Registry) -> int:
    for info in registry.services.values():
        name = info.database_url.rsplit("/", 1)[1].split("?")[0]
        admin = with_database(info.database_url, "postgres")
        created = await create_database(admin, name)
        print(f"{info.name}: database {name} {'created' if created else 'exists'}")
    return 0


def migrations_dir(info: ServiceInfo) -> Path:
    module, _, attr = info.migrations.partition(":")
    return Path(getattr(importlib.import_module(module), attr))


def migrate_all(registry: Registry) -> int:
    for info in registry.services.values():
        run_migrations(migrations_dir(info), info.database_url)
        print(f"{info.name}: migrated")
    return 0
