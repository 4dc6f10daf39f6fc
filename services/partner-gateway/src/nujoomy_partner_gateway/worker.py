"""The partner-gateway worker process: its outbox relay, its consumers and its scheduled jobs."""

from __future__ import annotations

from nujoomy_kit.resources import database
from nujoomy_messaging import PeriodicJob, Worker
from nujoomy_messaging.topology import topology_from

from nujoomy_partner_gateway.events.consumers import consumer_specs
from nujoomy_partner_gateway.events.delivery import Dispatcher
from nujoomy_partner_gateway.settings import SERVICE, Settings


def build_worker(settings: Settings, *, relay_poll: float = 1.0) -> Worker:
    _, sessions = database(settings)
    dispatcher = Dispatcher(settings, sessions)
    jobs = [PeriodicJob("webhook-deliveries", settings.webhook_poll_seconds, dispatcher.drain)]
    return Worker(
        service=SERVICE,
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        topology=topology_from(settings.events_exchange, settings.queue_prefix, settings.queue_type),
        sessions=sessions,
        consumers=consumer_specs(settings),
        jobs=jobs,
        relay_poll=relay_poll,
    )
