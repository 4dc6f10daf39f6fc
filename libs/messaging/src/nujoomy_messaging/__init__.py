"""Reliable events: transactional outbox, relay, idempotent consumers, retries and dead letters."""

from nujoomy_messaging.consumer import ConsumerSpec, EventConsumer, PermanentError
from nujoomy_messaging.outbox import add_event, add_events
from nujoomy_messaging.relay import OutboxRelay
from nujoomy_messaging.tables import create_messaging_tables, inbox_table, outbox_table
from nujoomy_messaging.topology import Topology
from nujoomy_messaging.worker import PeriodicJob, Worker, run_until_signalled

__all__ = [
    "ConsumerSpec",
    "EventConsumer",
    "OutboxRelay",
    "PeriodicJob",
    "PermanentError",
    "Topology",
    "Worker",
    "add_event",
    "add_events",
    "create_messaging_tables",
    "inbox_table",
    "outbox_table",
    "run_until_signalled",
]
