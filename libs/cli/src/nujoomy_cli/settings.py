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


class DevPorts(msgspec.Struct, kw_only=True):
    """Where `make up`'s local fakes of the outside world listen (`NUJOOMY_DEV_<FIELD>`); move them to
    run a second stack (a test's) beside a developer's running one."""

    # The SMTP sink: SMTP, and its HTTP view of the mail it received.
    fake_smtp_port: int = 1025
    fake_mail_port: int = 8025
    # The SMS provider fake.
    fake_sms_port: int = 8026
    # The APNs fake (HTTP/2 with client certificates), and its plain-HTTP control port.
    fake_apns_port: int = 8443
    fake_apns_control_port: int = 8444
    # The Google Wallet fake (walletobjects REST, OAuth2 token, callback keys).
    fake_google_port: int = 8093


def dev_ports() -> DevPorts:
    return load_settings(DevPorts, "dev")
