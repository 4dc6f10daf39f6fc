"""The ledger worker process: its outbox relay, its consumers and its scheduled jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from nujoomy_kit.resources import database
from nujoomy_messaging import PeriodicJob, Worker
from nujoomy_messaging.topology import topology_from
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_ledger.events.consumers import consumer_specs
from nujoomy_ledger.operations.expiry import notify_expiring, run_expiry, time_out_reservations
from nujoomy_ledger.settings import SERVICE, Settings


def ledger_jobs(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> list[PeriodicJob]:
    async def expiry() -> int:
        return await run_expiry(sessions, datetime.now(UTC))

    async def reservations() -> int:
        return await time_out_reservations(sessions, datetime.now(UTC))

    async def notices() -> int:
        return await notify_expiring(sessions, datetime.now(UTC), settings.expiring_notice_days)

    return [
        PeriodicJob(name="ledger-expiry", interval_seconds=settings.expiry_interval_seconds, run=expiry),
        PeriodicJob(
            name="ledger-reservations", interval_seconds=settings.reservation_sweep_seconds, run=reservations
        ),
        PeriodicJob(
            name="ledger-expiring-notices", interval_seconds=settings.expiry_interval_seconds, run=notices
        ),
    ]


def build_worker(settings: Settings) -> Worker:
    _, sessions = database(settings)
    return Worker(
        service=SERVICE,
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        topology=topology_from(settings.events_exchange, settings.queue_prefix, settings.queue_type),
        sessions=sessions,
        consumers=consumer_specs(settings),
        jobs=ledger_jobs(settings, sessions),
    )
