"""The tenant service's part of the `nujoomy` CLI. It talks to the tenant database directly, through
the service's own code (the same validation, the same events through the outbox)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from nujoomy_cli.registry import Registry
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_kit.problems import DomainError

from nujoomy_tenant import demo, provisioning
from nujoomy_tenant.db import keys as key_db
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import passwords
from nujoomy_tenant.events.consumers import CONSUMER_NAMES
from nujoomy_tenant.settings import SERVICE, Settings, load


async def create_tenant(settings: Settings, new: provisioning.NewTenant) -> list[str]:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            created = await provisioning.create_tenant(db, new, invite_ttl=settings.invite_ttl_seconds)
    finally:
        await engine.dispose()
    assert created.owner.token is not None
    link = provisioning.password_link(settings.public_url, created.owner.token)
    return [
        f"Created tenant {new.slug} ({created.tenant_id}).",
        f"Owner {new.owner_email} sets a password once, within {settings.invite_ttl_seconds // 3600} h:",
        f"  {link}",
    ]


async def rotate_keys(settings: Settings) -> list[str]:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            kid, removed = await key_db.rotate(
                db, datetime.now(UTC), timedelta(seconds=settings.key_overlap_seconds)
            )
    finally:
        await engine.dispose()
    lines = [
        f"New signing key {kid}; the previous one stays in the JWKS for {settings.key_overlap_seconds} s."
    ]
    if removed:
        lines.append(f"Removed keys retired longer than the overlap: {', '.join(removed)}")
    return lines


async def set_status(settings: Settings, slug: str, status: Literal["active", "suspended"]) -> list[str]:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            await provisioning.set_status(db, slug, status)
    finally:
        await engine.dispose()
    return [f"{slug} is now {status}."]


async def seed_demo(settings: Settings, *, only_if_empty: bool = False) -> list[str]:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            if only_if_empty and await tenant_db.tenant_count(db) > 0:
                seeded = False
            else:
                seeded = await demo.seed(db)
    finally:
        await engine.dispose()
    status = "Seeded the demo tenant." if seeded else "The demo tenant is there already."
    return [status, *demo.banner(settings.public_url)]


async def after_start(env: Mapping[str, str]) -> list[str]:
    """`make up`: seed the demo when the tenant database is empty; print the demo logins."""
    lines = await seed_demo(load(env), only_if_empty=True)
    return lines[1:]


def _run(lines_coroutine: Coroutine[Any, Any, list[str]]) -> int:
    settings = load()
    passwords.configure(settings.argon2_time_cost, settings.argon2_memory_kib)
    try:
        lines = asyncio.run(lines_coroutine)
    except DomainError as exc:
        print(f"error ({exc.code}): {exc.detail or exc.title}")
        return 1
    print("\n".join(lines))
    return 0


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    settings = load()
    registry.add_service(
        SERVICE,
        package="nujoomy_tenant",
        url=f"http://{settings.host}:{settings.port}",
        database_url=settings.database_url,
        migrations="nujoomy_tenant.__main__:MIGRATIONS",
        consumers=CONSUMER_NAMES,
    )
    registry.add_after_start(after_start)

    tenant = commands.add_parser("tenant", help="tenants, staff sign-in keys").add_subparsers(
        dest="tenant_command", required=True
    )
    create = tenant.add_parser("create", help="create a tenant and print its owner's password link")
    create.add_argument("--slug", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--owner-email", required=True)
    create.add_argument("--currency", default="EUR")
    create.add_argument("--locale", default="en")
    create.add_argument("--country", default=None, help="two letters (AE, FR); default: the locale's region")
    create.add_argument("--timezone", default="Europe/Paris")
    create.add_argument("--type", default="points", choices=["points", "stamps"])
    create.set_defaults(
        run=lambda a: _run(
            create_tenant(
                load(),
                provisioning.NewTenant(
                    slug=a.slug,
                    name=a.name,
                    owner_email=a.owner_email,
                    currency=a.currency,
                    locale=a.locale,
                    country=a.country,
                    timezone=a.timezone,
                    program_type=a.type,
                ),
            )
        )
    )
    rotate = tenant.add_parser("rotate-keys", help="start a new staff-token signing key")
    rotate.set_defaults(run=lambda a: _run(rotate_keys(load())))
    for status, verb in (("suspended", "suspend"), ("active", "activate")):
        p = tenant.add_parser(verb, help=f"{verb} a tenant (its tokens stop/start working within a minute)")
        p.add_argument("--slug", required=True)
        p.set_defaults(run=lambda a, s=status: _run(set_status(load(), a.slug, s)))

    seed = commands.add_parser("demo", help='seed the "Demo Café" tenant if absent')
    seed.set_defaults(run=lambda a: _run(seed_demo(load())))
