"""The wallet-pass worker process: its outbox relay, its consumers, the Apple update-job runner and
the Google queue's runner. Settings choose which of them a process runs (`worker_consumers`,
`worker_sync`, `worker_google`); any mix is safe across replicas (jobs are claimed with SKIP LOCKED
and leased, the relay is single-active by advisory lock, the Google pacer is shared)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys

import msgspec
import structlog
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
    _, sessions = database(settings, pre_ping=settings.worker_db_pool_pre_ping)
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


def build_worker(
    settings: Settings,
    runner: SyncRunner | None = None,
    relay_poll: float = 1.0,
    extra_jobs: tuple[PeriodicJob, ...] = (),
) -> Worker:
    _, sessions = database(settings, pre_ping=settings.worker_db_pool_pre_ping)
    jobs = list(extra_jobs)
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


log = structlog.get_logger("nujoomy.wallet.worker")


def build_worker_process(settings: Settings) -> Worker:
    """`python -m nujoomy_wallet_pass worker` (what `make up` runs). With `worker_split` (the default)
    the consumers stay in this process and the update runners run in a child process it supervises:
    a scan costs about as much CPU to consume as to push, and one Python process is one core, so two
    processes are what keeps a scan's push within half a second at 200 scans/s (docs/benchmarks/
    wallet-pass.md). A deployment may instead run replicas with the worker_* settings; the child is
    simply such a replica."""
    runs_runners = settings.worker_sync or settings.worker_google
    if not (settings.worker_split and settings.worker_consumers and runs_runners):
        return build_worker(settings)
    consumers_only = msgspec.structs.replace(settings, worker_sync=False, worker_google=False)
    return build_worker(
        consumers_only, extra_jobs=(PeriodicJob("wallet-pass-runners-process", 1.0, _supervise_runners),)
    )


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when this worker dies, even by SIGKILL (Linux prctl)."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def _supervise_runners() -> None:
    """Start the runners' process, restart it if it exits, stop it with the worker."""
    env = {
        **os.environ,
        "NUJOOMY_WALLET_PASS_WORKER_CONSUMERS": "false",
        "NUJOOMY_WALLET_PASS_WORKER_SPLIT": "false",
    }
    delay = 1.0
    while True:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nujoomy_wallet_pass", "worker", env=env, preexec_fn=_die_with_parent
        )
        log.info("runners_process_started", pid=child.pid)
        try:
            code = await child.wait()
        finally:
            if child.returncode is None:  # the worker is stopping: so does the child
                child.terminate()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(child.wait()), 15)
        log.warning("runners_process_exited", code=code, restart_in_seconds=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
