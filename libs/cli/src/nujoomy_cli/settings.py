"""The few settings the CLI itself needs (the services' own come from their packages)."""

from __future__ import annotations

import msgspec
from nujoomy_kit.settings import load_settings
from nujoomy_messaging.topology import Topology, topology_from


class CliSettings(msgspec.Struct, kw_only=True):
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = "nujoomy.events"
    queue_prefix: str = ""
    queue_type: str = "classic"
    admin_database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"


def load() -> CliSettings:
    return load_settings(CliSettings, "cli")


def topology(settings: CliSettings) -> Topology:
    return topology_from(settings.events_exchange, settings.queue_prefix, settings.queue_type)
