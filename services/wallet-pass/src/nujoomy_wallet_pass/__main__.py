"""`python -m nujoomy_wallet_pass api|worker|migrate`: how every process of this service starts."""

from __future__ import annotations

import argparse
from pathlib import Path

from nujoomy_kit.db import run_migrations
from nujoomy_kit.logging import configure_logging

from nujoomy_wallet_pass.settings import SERVICE, load

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def main() -> None:
    parser = argparse.ArgumentParser(prog="nujoomy_wallet_pass")
    parser.add_argument("command", choices=["api", "worker", "migrate"])
    args = parser.parse_args()
    settings = load()
    configure_logging(SERVICE, settings.log_level, json=settings.log_json)
    if args.command == "migrate":
        run_migrations(MIGRATIONS, settings.database_url)
    elif args.command == "worker":
        from nujoomy_messaging import run_until_signalled

        from nujoomy_wallet_pass.worker import build_worker

        run_until_signalled(build_worker(settings))
    else:
        from nujoomy_kit.server import serve

        from nujoomy_wallet_pass.app import build_app

        serve(build_app(settings), settings.host, settings.port, settings.log_level)


if __name__ == "__main__":
    main()
