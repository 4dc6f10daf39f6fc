"""`nujoomy dlq list|show|replay`: dead letters, per consumer."""

from __future__ import annotations

import argparse
import asyncio

import msgspec
from nujoomy_messaging import deadletters

from nujoomy_cli.registry import Registry
from nujoomy_cli.settings import load, topology
from nujoomy_cli.table import render


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    group = commands.add_parser("dlq", help="inspect and replay dead letters")
    sub = group.add_subparsers(dest="dlq_command", required=True)

    p = sub.add_parser("list", help="dead letters per consumer")
    p.set_defaults(run=lambda a: asyncio.run(_list(registry)))

    p = sub.add_parser("show", help="the dead letters of one consumer, with their errors")
    p.add_argument("consumer")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    p.set_defaults(run=lambda a: asyncio.run(_show(a.consumer, a.limit, a.json)))

    p = sub.add_parser("replay", help="send dead letters back to their consumer")
    p.add_argument("consumer")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", dest="ids", help="an event id (repeatable)")
    which.add_argument("--all", action="store_true")
    p.set_defaults(run=lambda a: asyncio.run(_replay(a.consumer, None if a.all else set(a.ids))))


async def _list(registry: Registry) -> int:
    settings = load()
    rows = []
    for info in registry.services.values():
        for consumer in info.consumers:
            count = await deadletters.count(settings.amqp_url, topology(settings), consumer)
            rows.append((info.name, consumer, count))
    print(render(("service", "consumer", "dead letters"), rows))
    return 0


async def _show(consumer: str, limit: int, as_json: bool) -> int:
    settings = load()
    letters = await deadletters.inspect(settings.amqp_url, topology(settings), consumer, limit)
    if as_json:
        print(msgspec.json.format(msgspec.json.encode(letters)).decode())
        return 0
    rows = [
        (d.message_id, d.type, d.attempts, d.failed_at, (d.error or "").splitlines()[-1][:80])
        for d in letters
    ]
    print(render(("event id", "type", "attempts", "failed at", "error"), rows))
    return 0


async def _replay(consumer: str, ids: set[str] | None) -> int:
    settings = load()
    count = await deadletters.replay(settings.amqp_url, topology(settings), consumer, ids)
    print(f"replayed {count} dead letter(s) to {consumer}")
    return 0 if count or ids is None else 1
