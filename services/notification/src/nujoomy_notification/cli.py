"""The notification service's part of the `nujoomy` CLI."""

from __future__ import annotations

import argparse

from nujoomy_cli.registry import Registry

from nujoomy_notification.events.consumers import CONSUMER_NAMES
from nujoomy_notification.settings import SERVICE, load


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    settings = load()
    registry.add_service(
        SERVICE,
        package="nujoomy_notification",
        url=f"http://{settings.host}:{settings.port}",
        database_url=settings.database_url,
        migrations="nujoomy_notification.__main__:MIGRATIONS",
        consumers=CONSUMER_NAMES,
    )
