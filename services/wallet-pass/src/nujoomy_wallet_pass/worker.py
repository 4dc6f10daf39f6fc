"""The wallet-pass worker process: its outbox relay, its consumers and the update-job runner."""

from __future__ import annotations

import logging

from nujoomy_kit.resources import database
from nujoomy_messaging import PeriodicJob, Worker
from nujoomy_messaging.topology import topology_from

from nujoomy_wallet_pass.apns import ApnsPool
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.events.consumers import consumer_specs
from nujoomy_wallet_pass.google_sync import GoogleSync
from nujoomy_wallet_pass.settings import SERVICE, Settings
from nujoomy_wallet_pass.sync import SyncRunner


def build_runner(settings: Settings) -> SyncRunner:
    # httpx logs every request at INFO: one line per push would cost more than the push.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _, sessions = database(settings)
    wallet = WalletContext.from_settings(settings)
    google = GoogleSync(sessions, wallet) if wallet.account is not None and settings.google_enabled else None
    return SyncRunner(sessions, wallet, ApnsPool(settings.apns_ca_file, settings.apns_concurrency), google)


def build_worker(settings: Settings, runner: SyncRunner | None = None, relay_poll: float = 1.0) -> Worker:
    _, sessions = database(settings)
    jobs = []
    if settings.worker_sync:
        runner = runner or build_runner(settings)
        jobs.append(PeriodicJob("wallet-pass-sync", settings.sync_interval_seconds, runner.run_until_idle))
    return Worker(
        service=SERVICE,
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        topology=topology_from(settings.events_exchange, settings.queue_prefix, settings.queue_type),
        sessions=sessions,
        consumers=consumer_specs(settings) if settings.worker_consumers else [],
        jobs=jobs,
        relay_poll=relay_poll,
    )
