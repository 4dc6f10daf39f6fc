"""`python -m nujoomy_<service> api|worker|migrate`: the one way every service process starts.

Each service's `__main__` names its settings loader and the import paths of its app and worker
factories; they are imported only for the command that needs them, so `migrate` never builds an app.
It lives here, not in kit, because a worker is this library's (kit knows nothing of messaging).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nujoomy_kit.db import run_migrations
from nujoomy_kit.logging import configure_logging
from nujoomy_kit.settings import ServiceSettings, placeholder_secrets

from nujoomy_messaging.worker import run_until_signalled


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def service_main(
    *,
    service: str,
    load: Callable[[], ServiceSettings],
    migrations: Path,
    app_factory: str,
    worker_factory: str,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"nujoomy-{service}")
    parser.add_argument("command", choices=["api", "worker", "migrate"])
    args = parser.parse_args(argv)
    settings = load()
    configure_logging(service, settings.log_level, json=settings.log_json)
    if args.command == "migrate":
        run_migrations(migrations, settings.database_url)
        return
    bad = placeholder_secrets(settings, service)
    if bad:
        # Outside dev mode a shipped example value or an empty secret would let anyone who read the
        # repository mint tokens or forge links: refuse to start, naming what to set.
        raise SystemExit(
            f"nujoomy-{service}: refusing to start outside dev mode; set a real secret in " + ", ".join(bad)
        )
    if args.command == "worker":
        run_until_signalled(
            _resolve(worker_factory)(settings),
            health_host=settings.host,
            health_port=settings.worker_health_port,
        )
    else:
        from nujoomy_kit.server import serve

        serve(_resolve(app_factory)(settings), settings.host, settings.port, settings.log_level)
