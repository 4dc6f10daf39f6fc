"""The partner-gateway service's part of the `nujoomy` CLI: API keys and webhook deliveries.

    nujoomy keys create --tenant <ten_… | uuid | slug> --mode test [--name pos] [--scopes read,write]
    nujoomy keys list|revoke|roll …
    nujoomy keys limits <key_…> --tenant … --mode … [--rate 200] [--burst 400] [--max-in-flight 64]
    nujoomy keys tenant-limits --tenant … --mode … [--rate 300] [--burst 600] [--max-keys 20] [--show]
    nujoomy webhooks deliveries list --tenant … --mode … [--endpoint we_…] [--status failed]
    nujoomy webhooks deliveries replay --tenant … --mode … (--delivery dlv_… | --endpoint we_… --since <time>)

The commands work on the gateway's own database (an operator's tool on the gateway's side), and a
revoke, roll or limit change is announced on Redis like the API's, so running replicas reload the
key at once. Rate and concurrency limits are set here only: no tenant-facing route can change them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from nujoomy_cli.registry import Registry

from nujoomy_partner_gateway.events.consumers import CONSUMER_NAMES
from nujoomy_partner_gateway.settings import SERVICE, Settings, load


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    settings = load()
    registry.add_service(
        SERVICE,
        package="nujoomy_partner_gateway",
        url=f"http://{settings.host}:{settings.port}",
        database_url=settings.database_url,
        migrations="nujoomy_partner_gateway.__main__:MIGRATIONS",
        consumers=CONSUMER_NAMES,
        extra_settings=(("web", "nujoomy_partner_gateway.bff.config:WebSettings"),),
    )
    keys = commands.add_parser("keys", help="partner API keys").add_subparsers(
        dest="keys_command", required=True
    )
    p = _plane(keys.add_parser("create", help="create a key; its secret is printed once"))
    p.add_argument("--name", default="cli")
    p.add_argument("--scopes", default="read,write,webhooks", help="comma separated: read,write,webhooks")
    p.set_defaults(run=_runner(_create))
    _plane(keys.add_parser("list", help="the keys of a tenant's plane")).set_defaults(run=_runner(_list))
    p = _plane(keys.add_parser("revoke", help="revoke a key (effective within a second)"))
    p.add_argument("key_id")
    p.set_defaults(run=_runner(_revoke))
    p = _plane(keys.add_parser("roll", help="a new secret; the old one works for the grace period"))
    p.add_argument("key_id")
    p.add_argument("--grace-seconds", type=int, default=None)
    p.set_defaults(run=_runner(_roll))
    p = _plane(keys.add_parser("limits", help="a key's rate, burst and concurrency (omitted: the default)"))
    p.add_argument("key_id")
    p.add_argument("--rate", type=_positive(float, 10_000), help="requests per second, sustained")
    p.add_argument("--burst", type=_positive(int, 100_000), help="requests at once beyond the first")
    p.add_argument("--max-in-flight", type=_positive(int, 10_000), help="concurrent requests per replica")
    p.set_defaults(run=_runner(_key_limits))
    p = _plane(
        keys.add_parser("tenant-limits", help="a plane's aggregate rate over its keys and its cap on keys")
    )
    p.add_argument("--rate", type=_positive(float, 100_000), help="requests per second, all keys together")
    p.add_argument("--burst", type=_positive(int, 1_000_000))
    p.add_argument("--max-keys", type=_positive(int, 10_000), help="working keys the plane may hold")
    p.add_argument("--show", action="store_true", help="print the current limits, change nothing")
    p.set_defaults(run=_runner(_tenant_limits))

    hooks = commands.add_parser("webhooks", help="webhook deliveries").add_subparsers(
        dest="hooks", required=True
    )
    deliveries = hooks.add_parser("deliveries").add_subparsers(dest="deliveries_command", required=True)
    p = _plane(deliveries.add_parser("list", help="recent deliveries, newest first"))
    p.add_argument("--endpoint", help="we_… (default: every endpoint of the plane)")
    p.add_argument("--status", choices=["pending", "succeeded", "failed", "cancelled"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(run=_runner(_deliveries))
    p = _plane(
        deliveries.add_parser("replay", help="deliver again: one delivery, or an endpoint since a time")
    )
    p.add_argument("--delivery", help="dlv_…")
    p.add_argument("--endpoint", help="we_… (with --since)")
    p.add_argument(
        "--since", type=datetime.fromisoformat, help="ISO 8601 time, e.g. 2026-11-24T08:00:00+00:00"
    )
    p.set_defaults(run=_runner(_replay))


def _plane(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--tenant", required=True, help="ten_… id, raw uuid, or slug")
    parser.add_argument("--mode", required=True, choices=["live", "test"])
    return parser


def _positive(kind: type[Any], most: float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if not 0 < value <= most:
            raise argparse.ArgumentTypeError(f"must be above 0 and at most {most:g}")
        return value

    return parse


def _runner(command: Callable[[Settings, uuid.UUID, argparse.Namespace, Any], Awaitable[int]]) -> Any:
    def run(args: argparse.Namespace) -> int:
        async def main() -> int:
            from nujoomy_kit.db import transaction
            from nujoomy_kit.resources import database

            settings = load()
            tenant_id = await _tenant_id(settings, args.tenant)
            engine, sessions = database(settings)
            try:
                async with transaction(sessions) as db:
                    return await command(settings, tenant_id, args, db)
            finally:
                await engine.dispose()

        return asyncio.run(main())

    return run


async def _tenant_id(settings: Settings, text: str) -> uuid.UUID:
    from nujoomy_kit.ids import InvalidId, decode_id

    try:
        return decode_id("ten", text) if text.startswith("ten_") else uuid.UUID(text)
    except (InvalidId, ValueError):
        pass
    import httpx

    async with httpx.AsyncClient(base_url=settings.tenant_url, timeout=5) as client:
        response = await client.get(f"/internal/v1/tenants/by-slug/{text}")
    body = response.json() if response.status_code == 200 else {}
    found = body.get("tenant_id") or body.get("id")
    if not found:
        raise SystemExit(f"no tenant id for slug {text!r} (status {response.status_code}); pass its ten_ id")
    return decode_id("ten", found) if str(found).startswith("ten_") else uuid.UUID(str(found))


async def _announce(settings: Settings, sha256: str) -> None:
    from nujoomy_partner_gateway.edge.keystore import publish_invalidation

    async with _redis(settings) as client:
        await publish_invalidation(client, settings.redis_prefix, sha256)


def _key_uuid(text: str) -> uuid.UUID:
    from nujoomy_kit.ids import decode_id

    return decode_id("key", text)


async def _create(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_partner_gateway.operations.keys import create_key

    scopes = sorted({s.strip() for s in args.scopes.split(",") if s.strip()})
    if not scopes or not set(scopes) <= {"read", "write", "webhooks"}:
        raise SystemExit("scopes must be among read, write, webhooks")
    row, secret = await create_key(
        db, tenant_id, args.mode, name=args.name, scopes=scopes, default_cap=settings.max_keys_per_tenant
    )
    from nujoomy_kit.ids import encode_id

    print(f"{encode_id('key', row.id)}  {args.mode}  {','.join(scopes)}")
    print(f"secret (shown once): {secret}")
    return 0


async def _list(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_cli.table import render
    from nujoomy_kit.ids import encode_id

    from nujoomy_partner_gateway.db.keys import list_keys

    rows = await list_keys(db, tenant_id, args.mode)
    table = [
        (encode_id("key", r.id), r.name, r.redacted, ",".join(r.scopes), r.last_used_at or "-", _state(r))
        for r in rows
    ]
    print(render(("id", "name", "key", "scopes", "last used", "state"), table))
    return 0


def _state(row: Any) -> str:
    if row.revoked_at:
        return "revoked"
    return f"expires {row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else "active"


async def _revoke(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_partner_gateway.db.keys import revoke_key

    row = await revoke_key(db, tenant_id, args.mode, _key_uuid(args.key_id))
    if row is None:
        raise SystemExit("no such key in that tenant and mode")
    await db.commit()
    await _announce(settings, row.sha256)
    print(f"revoked {args.key_id}")
    return 0


async def _roll(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_kit.ids import encode_id

    from nujoomy_partner_gateway.operations.keys import roll_key

    grace = settings.key_roll_grace_seconds if args.grace_seconds is None else args.grace_seconds
    rolled = await roll_key(
        db,
        tenant_id,
        args.mode,
        _key_uuid(args.key_id),
        grace_seconds=grace,
        default_cap=settings.max_keys_per_tenant,
    )
    if rolled is None:
        raise SystemExit("no such active key in that tenant and mode")
    new, secret, old = rolled
    await db.commit()
    await _announce(settings, old.sha256)
    until = f"{old.expires_at:%Y-%m-%d %H:%M}"
    print(f"{encode_id('key', new.id)} replaces {args.key_id}, which works until {until}")
    print(f"secret (shown once): {secret}")
    return 0


@contextlib.asynccontextmanager
async def _redis(settings: Settings) -> AsyncIterator[Any]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def _key_limits(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_partner_gateway.operations.limits import set_key_limits

    async with _redis(settings) as client:
        row = await set_key_limits(
            db,
            client,
            settings.redis_prefix,
            tenant_id=tenant_id,
            mode=args.mode,
            key_id=_key_uuid(args.key_id),
            rate=args.rate,
            burst=args.burst,
            max_in_flight=args.max_in_flight,
        )
    if row is None:
        raise SystemExit("no such key in that tenant and mode")
    print(f"{args.key_id}  {_limits(rate=row.rate, burst=row.burst, max_in_flight=row.max_in_flight)}")
    return 0


async def _tenant_limits(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_partner_gateway.db.keys import get_tenant_limits
    from nujoomy_partner_gateway.operations.limits import set_tenant_limits

    if args.show:
        row = await get_tenant_limits(db, tenant_id, args.mode)
    else:
        async with _redis(settings) as client:
            row = await set_tenant_limits(
                db,
                client,
                settings.redis_prefix,
                tenant_id=tenant_id,
                mode=args.mode,
                rate=args.rate,
                burst=args.burst,
                max_keys=args.max_keys,
            )
    max_keys = row.max_keys if row is not None and row.max_keys is not None else settings.max_keys_per_tenant
    rate, burst = (row.rate, row.burst) if row is not None else (None, None)
    print(f"{args.mode}  {_limits(rate=rate, burst=burst)}  max_keys={max_keys}")
    return 0


def _limits(**values: object) -> str:
    return "  ".join(f"{name}={'default' if value is None else value}" for name, value in values.items())


async def _deliveries(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_cli.table import render
    from nujoomy_kit.ids import encode_id

    from nujoomy_partner_gateway.db.webhooks import list_plane_deliveries

    endpoint = _endpoint_uuid(args.endpoint) if args.endpoint else None
    rows = await list_plane_deliveries(
        db, tenant_id, args.mode, endpoint_id=endpoint, status=args.status, limit=args.limit
    )
    table = [
        (
            encode_id("dlv", r.id),
            encode_id("we", r.endpoint_id),
            r.event_type,
            r.status,
            r.attempts,
            r.last_status_code or "-",
            f"{r.created_at:%Y-%m-%d %H:%M:%S}",
        )
        for r in rows
    ]
    print(render(("delivery", "endpoint", "event", "status", "attempts", "last", "created"), table))
    return 0


def _endpoint_uuid(text: str) -> uuid.UUID:
    from nujoomy_kit.ids import decode_id

    return decode_id("we", text)


async def _replay(settings: Settings, tenant_id: uuid.UUID, args: argparse.Namespace, db: Any) -> int:
    from nujoomy_kit.ids import decode_id

    from nujoomy_partner_gateway.db.webhooks import delivery_endpoint, get_endpoint, replay

    if args.delivery:
        delivery_id = decode_id("dlv", args.delivery)
        endpoint_id = await delivery_endpoint(db, tenant_id, args.mode, delivery_id)
        if endpoint_id is None:
            raise SystemExit("no such delivery in that tenant and mode")
        count = await replay(db, endpoint_id, delivery_id=delivery_id)
    elif args.endpoint and args.since:
        endpoint = await get_endpoint(db, tenant_id, args.mode, _endpoint_uuid(args.endpoint))
        if endpoint is None:
            raise SystemExit("no such endpoint in that tenant and mode")
        count = await replay(db, endpoint.id, since=args.since)
    else:
        raise SystemExit("give --delivery, or --endpoint with --since")
    print(f"scheduled {count} deliveries")
    return 0
