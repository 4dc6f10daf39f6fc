"""The tenant worker process: its outbox relay, its consumers and its scheduled jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nujoomy_kit.db import transaction
from nujoomy_kit.resources import database
from nujoomy_messaging import PeriodicJob, Worker
from nujoomy_messaging.topology import topology_from
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_tenant.db import staff as staff_db
from nujoomy_tenant.events.consumers import consumer_specs
from nujoomy_tenant.settings import SERVICE, Settings

# Expired tokens are kept a day past expiry so a late reuse still reads "expired", not "unknown".
PURGE_GRACE = timedelta(days=1)


def purge_job(sessions: async_sessionmaker[AsyncSession]) -> PeriodicJob:
    async def purge() -> int:
        async with transaction(sessions) as db:
            return await staff_db.purge_expired(db, datetime.now(UTC) - PURGE_GRACE)

    return PeriodicJob(name="purge-expired-tokens", interval_seconds=3600, run=purge)


def build_worker(settings: Settings) -> Worker:
    _, sessions = database(settings)
    return Worker(
        service=SERVICE,
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        topology=topology_from(settings.events_exchange, settings.queue_prefix, settings.queue_type),
        sessions=sessions,
        consumers=consumer_specs(settings),
        jobs=[purge_job(sessions)],
    )
