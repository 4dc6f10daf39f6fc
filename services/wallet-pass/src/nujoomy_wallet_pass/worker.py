"""The wallet-pass worker process: its outbox relay, its consumers, the Apple update-job runner and
the Google queue's runner. Settings choose which of them a process runs (`worker_consumers`,
`worker_sync`, `worker_google`); any mix is safe across replicas (jobs are claimed with SKIP LOCKED
and leased, the relay is single-active by advisory lock, the Google pacer is shared)."""

from __future__ import annotations

import logging

from nujoomy_kit.resources import database
from nujoomy_messaging import PeriodicJob, Worker
from nujoomy_messaging.topology import topology_from

from nujoomy_wallet_pass.apns import ApnsPool
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.events.consumers import consumer_specs
from nujoomy_wallet_pass.google_queue import GoogleRunner
from nujoomy_wallet_pass.google_sync import GoogleSync
from nujoomy_wallet_pass.pacing import build_pacer
from nujoomy_wallet_pass.settings import SERVICE, Settings
from nujoomy_wallet_pass.sync import AppleRunner, SyncRunner


def build_runner(settings: Settings) -> SyncRunner:
    # httpx logs every request at INFO: one line per push would cost more than the push.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _, sessions = database(settings)
    wallet = WalletContext.from_settings(settings)
    apple = AppleRunner(sessions, wallet, ApnsPool(settings.apns_ca_file, settings.apns_concurrency))
    google = None
    if wallet.account is not None and settings.google_enabled:
        pacer = build_pacer(
            settings.google_pacer,
            settings.google_requests_per_second,
            # One quota per issuer; redis_prefix keeps environments sharing a Redis apart.
            f"{settings.redis_prefix}wallet-pass:google-quota:{settings.google_issuer_id}",
            redis_url=settings.redis_url,
            sessions=sessions,
        )
        google = GoogleRunner(sessions, wallet, GoogleSync(sessions, wallet, pacer))
    return SyncRunner(apple, google)


def build_worker(settings: Settings, runner: SyncRunner | None = None, relay_poll: float = 1.0) -> Worker:
    _, sessions = database(settings)
    jobs = []
    if settings.worker_sync or settings.worker_google:
        runner = runner or build_runner(settings)
        # Each loop runs until the worker stops; PeriodicJob restarts it after an error.
        if settings.worker_sync:
            jobs.append(PeriodicJob("wallet-pass-apple", 1.0, runner.apple_runner.serve))
        if settings.worker_google and runner.google_runner is not None:
            jobs.append(PeriodicJob("wallet-pass-google", 1.0, runner.google_runner.serve))
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
