"""The Apple update-job runner: claims due jobs, pushes every registered device of each member, and
writes the outcome back. Google objects have their own queue (google_queue.py), so a push never
waits for Google.

A push carries no data (Wallet fetches the pass, rendered then), so a job needs only the member's
push tokens: the claim reads them in the same statement. The runner is woken by the NOTIFY that
queuing a job sends at commit (a poll is the fallback) and keeps up to `sync_parallel_batches`
batches pushing at once, so new jobs are claimed while a batch is still on the wire.

A job row is deleted only if its generation is still the one claimed; a change that arrived
meanwhile bumped it, and the job simply runs again. A crash leaves the claim to expire (60 s) and
re-run. Failures (APNs 429/5xx after the client's retries) back off; after `sync_max_attempts` the
job stops in its terminal state (`failed_at`, `last_error`) until the member changes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import asyncpg
import structlog
from nujoomy_contracts import new_envelope
from nujoomy_contracts.wallet import PASS_REMOVED, PassRemoved
from nujoomy_kit.db import plain_url
from nujoomy_messaging import add_events
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nujoomy_wallet_pass.apns import ApnsClient, ApnsPool, PushResult
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.db import apple
from nujoomy_wallet_pass.db.queries import SYNC_CHANNEL
from nujoomy_wallet_pass.domain.backoff import retry_delay
from nujoomy_wallet_pass.google_queue import GoogleRunner
from nujoomy_wallet_pass.google_sync import GoogleSync

log = structlog.get_logger("nujoomy.wallet.sync")

CLAIM_SECONDS = 60
SIGNER_RECHECK_SECONDS = 1.0  # a tenant's replaced certificate is used for pushes within this
SLOW_BATCH_SECONDS = 0.5  # worth a log line: a scan's push is meant to land well within a second

# The hot path (every scan) talks to asyncpg directly: each of these is one statement and one round
# trip in autocommit, where a session would add BEGIN, COMMIT and SQLAlchemy's per-call overhead.
_CLAIM = (
    "WITH c AS (UPDATE sync_jobs j SET due_at = now() + make_interval(secs => $2), "
    "attempts = j.attempts + 1 "
    "FROM (SELECT tenant_id, mode, member_id FROM sync_jobs WHERE due_at <= now() AND failed_at IS NULL "
    "ORDER BY priority, due_at LIMIT $1 FOR UPDATE SKIP LOCKED) s "
    "WHERE j.tenant_id = s.tenant_id AND j.mode = s.mode AND j.member_id = s.member_id "
    "RETURNING j.tenant_id, j.mode, j.member_id, j.generation, j.resync_id, j.attempts, j.priority) "
    "SELECT c.tenant_id, c.mode, c.member_id, c.generation, c.resync_id, c.attempts, c.priority, "
    "p.id AS pass_id, "
    # One index condition (apple_registrations_pass) for the current pass and any voided ones.
    "ARRAY(SELECT DISTINCT r.push_token FROM apple_registrations r "
    "WHERE r.pass_id = ANY(array_prepend(p.id, v.ids))) AS tokens, v.ids AS voided "
    "FROM c LEFT JOIN passes p ON p.tenant_id = c.tenant_id AND p.mode = c.mode "
    "AND p.member_id = c.member_id AND p.wallet = 'apple' AND p.voided_at IS NULL "
    # Passes voided by a reissue whose devices have not been told yet: pushed once with the member.
    "CROSS JOIN LATERAL (SELECT ARRAY(SELECT o.id FROM passes o WHERE o.tenant_id = c.tenant_id "
    "AND o.mode = c.mode AND o.member_id = c.member_id AND o.void_push_due) AS ids) v"
)
# Done at the generation claimed: gone; the passes that got a push say when; voided passes told.
_DONE = (
    "WITH gone AS (DELETE FROM sync_jobs j USING unnest($1::uuid[], $2::text[], $3::uuid[], $4::bigint[]) "
    "AS d(t, m, mb, g) WHERE j.tenant_id = d.t AND j.mode = d.m AND j.member_id = d.mb "
    "AND j.generation = d.g RETURNING 1), "
    "pushed AS (UPDATE passes SET last_pushed_at = $5 WHERE id = ANY($6::uuid[]) RETURNING 1), "
    "told AS (UPDATE passes SET void_push_due = false WHERE id = ANY($7::uuid[]) RETURNING 1) "
    "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM pushed), (SELECT count(*) FROM told)"
)


class Job(NamedTuple):
    """A claimed Apple job, with what pushing it needs (the columns of _CLAIM, in order)."""

    tenant_id: uuid.UUID
    mode: str
    member_id: uuid.UUID
    generation: int
    resync_id: uuid.UUID | None
    attempts: int
    priority: int
    pass_id: uuid.UUID | None
    tokens: list[str]
    voided: list[uuid.UUID]  # the member's passes voided by a reissue, still to be pushed once


_KEYS = "unnest($1::uuid[], $2::text[], $3::uuid[]"
_MATCH = "j.tenant_id = d.t AND j.mode = d.m AND j.member_id = d.mb"
# Bumped while we worked: the job runs again; a re-sync counts it once, now.
_UNCOUNT = (
    f"UPDATE sync_jobs j SET resync_id = NULL FROM {_KEYS}) AS d(t, m, mb) WHERE {_MATCH} "
    "AND j.resync_id IS NOT NULL"
)
_LATER = (
    "UPDATE sync_jobs j SET due_at = now() + make_interval(secs => d.s), last_error = d.e, "
    "failed_at = CASE WHEN j.attempts >= $6 THEN now() END "
    f"FROM {_KEYS}, $4::float8[], $5::text[]) AS d(t, m, mb, s, e) WHERE {_MATCH}"
)
_PROGRESS = (
    "UPDATE program_resyncs SET pushed = pushed + $1, "
    "finished_at = CASE WHEN pushed + $1 >= total THEN now() ELSE finished_at END WHERE id = $2"
)


def _keys(jobs: list[Job]) -> tuple[list[uuid.UUID], list[str], list[uuid.UUID]]:
    return [j.tenant_id for j in jobs], [j.mode for j in jobs], [j.member_id for j in jobs]


class AppleRunner:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], wallet: WalletContext, apns: ApnsPool
    ) -> None:
        self.sessions = sessions
        self.wallet = wallet
        self.apns = apns
        self.settings = wallet.settings
        self.pushes = 0
        self._wake = asyncio.Event()
        self._engine: AsyncEngine = sessions.kw["bind"]  # the sessions' engine and pool
        # While serving: connections of our own for claim and finish. The sessions' pool pings
        # every connection it hands out (pool_pre_ping), a round trip per statement on this path.
        self._pool: asyncpg.Pool | None = None
        self._signers_checked: dict[tuple[uuid.UUID, str], float] = {}

    def _client(self, job: Job) -> ApnsClient:
        base = self.settings.apns_base_url if job.mode == "live" else self.settings.apns_base_url_test
        return self.apns.client(self.wallet.signers.cached(job.tenant_id, job.mode), base)

    async def serve(self) -> None:
        """The worker's loop: claim whenever woken (NOTIFY, a batch finishing, or the poll interval)
        and a batch slot is free; push and finish each batch in its own task."""
        listener = await self._listen()
        with contextlib.suppress(Exception):  # without it, the sessions' pool serves (slower, same SQL)
            self._pool = await asyncpg.create_pool(
                plain_url(self.settings.database_url),
                min_size=1,
                max_size=self.settings.sync_parallel_batches + 1,
            )
        in_flight: set[asyncio.Task[None]] = set()
        listened = time.monotonic()
        try:
            while True:
                self._wake.clear()
                if (listener is None or listener.is_closed()) and time.monotonic() - listened > 5:
                    listened = time.monotonic()  # the LISTEN connection was lost: polling until back
                    listener = await self._listen()
                if len(in_flight) < self.settings.sync_parallel_batches:
                    try:
                        jobs = await self._claim()
                    except Exception as exc:  # database away: try again in a second
                        log.error("sync_claim_failed", error=repr(exc))
                        await asyncio.sleep(1.0)
                        continue
                    if jobs:
                        task = asyncio.create_task(self._run_batch(jobs))
                        in_flight.add(task)
                        task.add_done_callback(self._batch_done(in_flight))
                    if len(jobs) == self.settings.sync_batch:
                        continue  # a full batch: more are probably due
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.sync_interval_seconds)
        finally:
            for task in in_flight:
                task.cancel()  # their claims expire and the jobs run again
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()
            if self._pool is not None:
                pool, self._pool = self._pool, None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pool.close(), 10)

    def _batch_done(self, in_flight: set[asyncio.Task[None]]) -> Any:
        def done(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("sync_batch_failed", error=repr(task.exception()))
            self._wake.set()

        return done

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(plain_url(self.settings.database_url))
            await conn.add_listener(SYNC_CHANNEL, lambda *_: self._wake.set())
            return conn
        except Exception as exc:  # polling still works, only slower
            log.warning("sync_listen_failed", error=repr(exc))
            return None

    async def run_until_idle(self) -> int:
        done = 0
        while n := await self.run_once():
            done += n
        return done

    async def run_once(self) -> int:
        jobs = await self._claim()
        if jobs:
            await self._run_batch(jobs)
        return len(jobs)

    async def _claim(self) -> list[Job]:
        async with self._driver() as driver:
            rows = await driver.fetch(_CLAIM, self.settings.sync_batch, float(CLAIM_SECONDS))
        return [Job(*row) for row in rows]

    async def _run_batch(self, jobs: list[Job]) -> None:
        started = time.monotonic()
        await self._refresh_signers({(j.tenant_id, j.mode) for j in jobs}, started)
        outcomes = await asyncio.gather(*(self._push(j) for j in jobs))
        sent = time.monotonic()
        await self._finish(jobs, list(outcomes))
        finished = time.monotonic()
        if finished - started > SLOW_BATCH_SECONDS:
            log.warning(
                "slow_sync_batch",
                jobs=len(jobs),
                send_s=round(sent - started, 3),
                finish_s=round(finished - sent, 3),
            )
        # A branding re-sync is paced so 10,000 passes do not hit APNs in one burst (each of the
        # parallel batches takes its share of the rate).
        resyncing = sum(1 for j in jobs if j.priority > 0)
        floor = resyncing * self.settings.sync_parallel_batches / self.settings.resync_rate_per_second
        if finished - started < floor:
            await asyncio.sleep(floor - (finished - started))

    async def _refresh_signers(self, planes: set[tuple[uuid.UUID, str]], now: float) -> None:
        """Which certificate pushes for a tenant: looked up again at most once a second per plane
        (a lookup per batch costs more than the batch when batches are one scan each)."""
        stale = {
            p
            for p in planes
            if now - self._signers_checked.get(p, -SIGNER_RECHECK_SECONDS) >= SIGNER_RECHECK_SECONDS
        }
        if stale:
            await self.wallet.signers.refresh(self.sessions, stale)
            self._signers_checked.update(dict.fromkeys(stale, now))

    async def _push(self, job: Job) -> list[PushResult]:
        if not job.tokens:
            return []
        client = self._client(job)
        results = list(await asyncio.gather(*(client.push(t) for t in job.tokens)))
        self.pushes += sum(1 for r in results if r.ok)
        return results

    async def _finish(self, jobs: list[Job], outcomes: list[list[PushResult]]) -> None:
        failed = [(j, r) for j, r in zip(jobs, outcomes, strict=True) if not all(_settled(x) for x in r)]
        failed_keys = {(j.tenant_id, j.mode, j.member_id) for j, _ in failed}
        done = [j for j in jobs if (j.tenant_id, j.mode, j.member_id) not in failed_keys]
        pushed = [j.pass_id for j, r in zip(jobs, outcomes, strict=True) if any(x.ok for x in r)]
        gone = [(j, x) for j, r in zip(jobs, outcomes, strict=True) for x in r if x.unregistered]
        if gone:
            await self._drop_unregistered(gone)
        resyncing = [j for j in done if j.resync_id is not None]
        # The common case is one statement in autocommit; retries and re-sync progress commit together.
        async with (
            self._driver() as driver,
            driver.transaction() if failed or resyncing else contextlib.nullcontext(),
        ):
            if failed:
                await driver.execute(
                    _LATER,
                    *_keys([j for j, _ in failed]),
                    [retry_delay(j.attempts, base=1.0, cap=300.0) for j, _ in failed],
                    [_error(r) for _, r in failed],
                    self.settings.sync_max_attempts,
                )
            if done:
                generations = [j.generation for j in done]
                told = [pid for j in done for pid in j.voided]
                await driver.fetch(_DONE, *_keys(done), generations, datetime.now(UTC), pushed, told)
            if resyncing:
                await driver.execute(_UNCOUNT, *_keys(resyncing))
                for resync_id, count in Counter(j.resync_id for j in resyncing).items():
                    await driver.execute(_PROGRESS, count, resync_id)

    @contextlib.asynccontextmanager
    async def _driver(self) -> AsyncIterator[asyncpg.Connection]:
        """An asyncpg connection in autocommit: our pool's while serving, else the sessions'."""
        if self._pool is not None:
            async with self._pool.acquire() as conn:
                yield conn
            return
        async with self._engine.connect() as conn:
            yield (await conn.get_raw_connection()).driver_connection  # type: ignore[misc]

    async def _drop_unregistered(self, gone: list[tuple[Job, PushResult]]) -> None:
        """APNs 410: the device no longer has the pass; drop it and say so (outbox, same transaction)."""
        async with self.sessions() as db, db.begin():
            removed = []
            for job, result in gone:
                passes = [job.pass_id, *job.voided] if job.pass_id else job.voided
                for pid, device in await apple.drop_push_token(db, passes, result.token):
                    event = PassRemoved(
                        pass_id=pid, member_id=job.member_id, wallet="apple", device_id=device
                    )
                    envelope = new_envelope(
                        PASS_REMOVED,
                        event,
                        tenant_id=job.tenant_id,
                        mode=job.mode,  # type: ignore[arg-type]
                    )
                    removed.append((envelope, f"pass:{pid}"))
            await add_events(db, removed)


class SyncRunner:
    """Both queues of one worker: the Apple runner and, when Google is configured, the Google
    runner. The worker serves them as separate loops; tests drive them with run_once/run_until_idle."""

    def __init__(self, apple: AppleRunner, google: GoogleRunner | None) -> None:
        self.apple_runner = apple
        self.google_runner = google
        self.wallet = apple.wallet
        self.apns = apple.apns
        self.google: GoogleSync | None = google.google if google is not None else None

    @property
    def pushes(self) -> int:
        return self.apple_runner.pushes

    async def run_once(self) -> int:
        done = await self.apple_runner.run_once()
        if self.google_runner is not None:
            done += await self.google_runner.run_once()
        return done

    async def run_until_idle(self) -> int:
        """Apple jobs first, then Google's: returns the jobs done (a member counts once per queue
        only if it had work in both; an idle queue adds nothing)."""
        done = await self.apple_runner.run_until_idle()
        if self.google_runner is not None:
            done = max(done, await self.google_runner.run_until_idle())
        return done

    async def aclose(self) -> None:
        await self.apns.aclose()
        if self.google is not None:
            await self.google.aclose()


def _settled(result: PushResult) -> bool:
    """Final either way: delivered, or refused for good (400/403/410 are not retried)."""
    return result.ok or not (result.status == 429 or result.status >= 500)


def _error(results: list[PushResult]) -> str:
    return "; ".join(f"{r.status} {r.reason}" for r in results if not _settled(r))[:500]
