"""The notification worker process: its outbox relay, its consumers, and the sender."""

from __future__ import annotations

from nujoomy_kit.resources import database
from nujoomy_messaging import PeriodicJob, Worker
from nujoomy_messaging.topology import topology_from

from nujoomy_notification.delivery.sender import Sender
from nujoomy_notification.delivery.wiring import build_sender
from nujoomy_notification.events.consumers import consumer_specs
from nujoomy_notification.settings import SERVICE, Settings


def build_worker(settings: Settings, sender: Sender | None = None) -> Worker:
    """`sender` lets a caller (tests, the benchmark) keep a handle on it to read counters and close it."""
    _, sessions = database(settings)
    sender = sender or build_sender(settings, sessions)
    # The sender drains everything due, then waits one poll interval: with a busy queue it never sleeps.
    jobs = [PeriodicJob("notification.sender", settings.sender_poll_s, sender.drain)]
    return Worker(
        service=SERVICE,
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        topology=topology_from(settings.events_exchange, settings.queue_prefix, settings.queue_type),
        sessions=sessions,
        consumers=consumer_specs(settings),
        jobs=jobs,
    )
