"""The Google queue's runner: claims due `google_jobs`, reads each member's state as it is *now* (a
burst of changes on one card is one PATCH with the final balance), brings the Google object up to
it through the paced client, and writes the outcome back in one short transaction.

It runs beside the Apple runner, never in its way: Apple pushes do not wait for Google, whose
quota (20 requests/s per issuer) is far below a busy program's scan rate. A claimed row is leased
(`claimed_until`), so one object never has two requests in flight; a change that arrives meanwhile
bumps the generation and the job runs again when this one finishes. 429 pauses the pacer for every
replica and retries the job later; 5xx and transport errors retry with backoff; other refusals stop
the job in its terminal state (`failed_at`, `last_error`) until the member changes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from nujoomy_contracts.tenant import Program
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.db import programs
from nujoomy_wallet_pass.domain.backoff import retry_delay
from nujoomy_wallet_pass.domain.google_errors import GoogleOutcome, google_outcome
from nujoomy_wallet_pass.domain.links import pass_id
from nujoomy_wallet_pass.google import GoogleError
from nujoomy_wallet_pass.google_sync import (
    GoogleSync,
    ObjectState,
    forget_objects,
    load_object_states,
    save_object_states,
)
from nujoomy_wallet_pass.render import build_content

log = structlog.get_logger("nujoomy.wallet.google_queue")

LEASE_SECONDS = 120

_CLAIM = text(
    "UPDATE google_jobs j SET claimed_until = now() + make_interval(secs => :lease), "
    "attempts = j.attempts + 1 "
    "FROM (SELECT tenant_id, mode, member_id FROM google_jobs WHERE due_at <= now() AND failed_at IS NULL "
    "AND (claimed_until IS NULL OR claimed_until < now()) "
    "ORDER BY priority, due_at LIMIT :n FOR UPDATE SKIP LOCKED) c "
    "WHERE j.tenant_id = c.tenant_id AND j.mode = c.mode AND j.member_id = c.member_id "
    "RETURNING j.tenant_id, j.mode, j.member_id, j.generation, j.attempts"
)
_STATE = text(
    "SELECT m.tenant_id, m.mode, m.member_id, m.name, m.card_token, m.balance, m.status, m.generation, "
    "p.authentication_token FROM members m JOIN passes p ON p.tenant_id = m.tenant_id AND p.mode = m.mode "
    "AND p.member_id = m.member_id AND p.wallet = 'apple' AND p.generation = m.generation "
    "WHERE m.member_id = ANY(CAST(:ids AS uuid[]))"
)
_KEYS = "CAST(:t AS uuid[]), CAST(:m AS text[]), CAST(:mb AS uuid[]), CAST(:g AS bigint[])"
_MATCH = "j.tenant_id = d.t AND j.mode = d.m AND j.member_id = d.mb"
# Done at the generation we read: gone. Bumped meanwhile: released, due now, runs again.
_DONE = text(
    f"DELETE FROM google_jobs j USING unnest({_KEYS}) AS d(t, m, mb, g) WHERE {_MATCH} AND j.generation = d.g"
)
_RELEASE = text(
    f"UPDATE google_jobs j SET claimed_until = NULL, attempts = 0 FROM unnest({_KEYS}) AS d(t, m, mb, g) "
    f"WHERE {_MATCH}"
)
_LATER = text(
    "UPDATE google_jobs j SET claimed_until = NULL, due_at = now() + make_interval(secs => d.s), "
    "last_error = d.e, failed_at = CASE WHEN j.attempts >= :max THEN now() END "
    f"FROM unnest({_KEYS}, CAST(:s AS float8[]), CAST(:e AS text[])) AS d(t, m, mb, g, s, e) WHERE {_MATCH}"
)
# Refused: terminal, unless the member changed meanwhile (then the new state gets its own try).
_FINAL = text(
    "UPDATE google_jobs j SET claimed_until = NULL, last_error = d.e, "
    "failed_at = CASE WHEN j.generation = d.g THEN now() END, "
    "attempts = CASE WHEN j.generation = d.g THEN j.attempts ELSE 0 END "
    f"FROM unnest({_KEYS}, CAST(:e AS text[])) AS d(t, m, mb, g, e) WHERE {_MATCH}"
)


@dataclass(frozen=True)
class Outcome:
    kind: str  # "done" | "retry" | "final"
    saved: ObjectState | None = None
    forget: tuple[uuid.UUID, ...] = ()  # Google passes whose objects were retired (INACTIVE)
    error: str = ""
    delay: float = 0.0


def _keys(jobs: list[Any]) -> dict[str, list[Any]]:
    return {
        "t": [j.tenant_id for j in jobs],
        "m": [j.mode for j in jobs],
        "mb": [j.member_id for j in jobs],
        "g": [j.generation for j in jobs],
    }


class GoogleRunner:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], wallet: WalletContext, google: GoogleSync
    ) -> None:
        self.sessions = sessions
        self.wallet = wallet
        self.google = google
        self.settings = wallet.settings
        self.calls_done = 0

    async def serve(self) -> None:
        """The worker's loops: `google_parallel_batches` of them claim and sync at once. With one, the
        quota sat idle while a batch waited for its last paced slot and then wrote back, read and
        claimed again (≈ 10 requests/s of the 20 allowed under a steady stream of small batches);
        overlapping batches keep the pacer busy, and the pacer keeps them all within the quota. Leases
        keep a job in one batch at a time."""
        loops = max(1, self.settings.google_parallel_batches)
        await asyncio.gather(*(self._serve_one() for _ in range(loops)))

    async def _serve_one(self) -> None:
        """Batches while there is work, a short poll when there is none (jobs come due after the
        coalescing delay or a backoff, so a notification would rarely help)."""
        while True:
            try:
                if await self.run_once():
                    continue
            except Exception as exc:  # the database or the pacer is away: leases expire, jobs re-run
                log.error("google_batch_failed", error=repr(exc))
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.settings.sync_interval_seconds)

    async def run_until_idle(self) -> int:
        done = 0
        while n := await self.run_once():
            done += n
        return done

    async def run_once(self) -> int:
        async with self.sessions() as db, db.begin():
            jobs = list(await db.execute(_CLAIM, {"n": self.settings.google_batch, "lease": LEASE_SECONDS}))
        if not jobs:
            return 0
        member_ids = [j.member_id for j in jobs]
        async with self.sessions() as db:
            states = {r.member_id: r for r in await db.execute(_STATE, {"ids": member_ids})}
            # Every card generation's object: a reissued card's older objects are retired here.
            google_passes = [
                pass_id(s.member_id, "google", g) for s in states.values() for g in range(s.generation + 1)
            ]
            objects = await load_object_states(db, google_passes)
            program_of: dict[tuple[uuid.UUID, str], Program | None] = {}
            for key in {(j.tenant_id, j.mode) for j in jobs}:
                found = await programs.program_row(db, key[0], key[1])
                program_of[key] = found[0] if found else None
        outcomes = await asyncio.gather(*(self._sync(j, states, objects, program_of) for j in jobs))
        await self._finish(jobs, list(outcomes))
        return len(jobs)

    async def _sync(
        self,
        job: Any,
        states: dict[uuid.UUID, Any],
        objects: dict[uuid.UUID, Any],
        program_of: dict[tuple[uuid.UUID, str], Program | None],
    ) -> Outcome:
        state = states.get(job.member_id)
        if state is None or (state.tenant_id, state.mode) != (job.tenant_id, job.mode):
            return Outcome("done")  # unknown member: nothing to send
        generation = int(state.generation)
        row = objects.get(pass_id(job.member_id, "google", generation))
        older = [o for g in range(generation) if (o := objects.get(pass_id(job.member_id, "google", g)))]
        try:
            if state.status != "active":
                # Erasure: every card goes INACTIVE and blank, and we forget the objects.
                retiring = [*older, *([row] if row is not None else [])]
                for obj in retiring:
                    await self.google.retire(job.mode, obj.object_id, blank=True)
                return Outcome("done", forget=tuple(o.pass_id for o in retiring))
            # A reissued card: the older objects go INACTIVE first (they keep their own, old QR).
            for obj in older:
                await self.google.retire(job.mode, obj.object_id, blank=False)
            program = program_of.get((job.tenant_id, job.mode))
            content = build_content(
                self.settings,
                self.wallet.credentials,
                mode=job.mode,
                member_id=job.member_id,
                authentication_token=state.authentication_token,
                card_token=state.card_token,
                balance=int(state.balance),
                name=state.name,
                program=program,
                generation=generation,
            )
            saved = await self.google.sync_member(job, content, program, row, generation)
            return Outcome("done", saved=saved, forget=tuple(o.pass_id for o in older))
        except GoogleError as exc:
            return await self._refused(job, exc.status, exc.body)
        except (httpx.TransportError, OSError) as exc:
            return Outcome("retry", error=repr(exc), delay=retry_delay(job.attempts, base=1.0, cap=300.0))
        except Exception as exc:  # a bug or a surprise: keep the job, retry with backoff, say so
            log.exception("google_job_failed", member_id=str(job.member_id))
            return Outcome("retry", error=repr(exc), delay=retry_delay(job.attempts, base=1.0, cap=300.0))

    async def _refused(self, job: Any, status: int, body: Any) -> Outcome:
        outcome = google_outcome(status, body)
        error = f"{status} {body}"[:500]
        delay = retry_delay(job.attempts, base=1.0, cap=300.0)
        if outcome is GoogleOutcome.QUOTA:
            # The quota is the issuer's: every replica holds off, not just this job.
            pause = retry_delay(job.attempts, base=1.0, cap=30.0)
            if self.google.pacer is not None:
                with contextlib.suppress(Exception):  # best effort: the job's own backoff still holds
                    await self.google.pacer.pause(pause)
            log.warning("google_quota_exceeded", member_id=str(job.member_id), pause_seconds=pause)
            return Outcome("retry", error=error, delay=delay)
        if outcome is GoogleOutcome.RETRY:
            log.warning("google_retry_later", member_id=str(job.member_id), status=status, in_seconds=delay)
            return Outcome("retry", error=error, delay=delay)
        log.error("google_refused", member_id=str(job.member_id), status=status, body=str(body)[:300])
        return Outcome("final", error=error)

    async def _finish(self, jobs: list[Any], outcomes: list[Outcome]) -> None:
        done = [j for j, o in zip(jobs, outcomes, strict=True) if o.kind == "done"]
        retry = [(j, o) for j, o in zip(jobs, outcomes, strict=True) if o.kind == "retry"]
        final = [(j, o) for j, o in zip(jobs, outcomes, strict=True) if o.kind == "final"]
        async with self.sessions() as db, db.begin():
            await save_object_states(db, [o.saved for o in outcomes if o.saved is not None])
            await forget_objects(db, [pid for o in outcomes for pid in o.forget])
            if done:
                await db.execute(_DONE, _keys(done))
                await db.execute(_RELEASE, _keys(done))  # only rows bumped meanwhile are left
            if retry:
                await db.execute(
                    _LATER,
                    {
                        **_keys([j for j, _ in retry]),
                        "s": [o.delay for _, o in retry],
                        "e": [o.error for _, o in retry],
                        "max": self.settings.google_max_attempts,
                    },
                )
            if final:
                await db.execute(_FINAL, {**_keys([j for j, _ in final]), "e": [o.error for _, o in final]})
        self.calls_done += sum(1 for o in outcomes if o.saved is not None)
