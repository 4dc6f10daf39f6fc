"""`nujoomy`: the operator CLI. Core commands live here; each service adds its own group through
the `nujoomy.commands` entry point (`register(subparsers, registry)`)."""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from nujoomy_cli import catalog, dev, dlq, ops
from nujoomy_cli.registry import Registry


def build_parser() -> tuple[argparse.ArgumentParser, Registry]:
    parser = argparse.ArgumentParser(prog="nujoomy", description="Operate a Nujoomy installation.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    registry = Registry()
    for ep in sorted(entry_points(group="nujoomy.commands"), key=lambda e: e.name):
        ep.load()(commands, registry)
    ops.register(commands, registry)
    dlq.register(commands, registry)
    dev.register(commands, registry)
    catalog.register(commands, registry)
    return parser, registry


def load_dev_env() -> None:
    """After `make up`, commands from another shell use the local run's settings (keys, fakes)
    unless the environment already says otherwise."""
    path = Path(os.environ.get("NUJOOMY_DEV_DIR", ".dev")) / "env"
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key not in os.environ:
            os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    load_dev_env()
    parser, _ = build_parser()
    args = parser.parse_args(argv)
    code = args.run(args)
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
