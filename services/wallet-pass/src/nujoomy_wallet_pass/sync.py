"""The update-job runner: claims due jobs, reads each member's state as it is *now* (so a burst of
changes costs one push), pushes every registered Apple device and patches the Google object.

A job row is deleted only if its generation is still the one read; a change that arrived meanwhile
bumped it, and the job simply runs again. A crash leaves the claim to expire (60 s) and re-run.
A batch reads its state in a few queries, does its network calls, and writes back in one short
transaction, so consumers upserting jobs never wait long on the runner's locks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import structlog
from nujoomy_contracts import new_envelope
from nujoomy_contracts.tenant import Program
from nujoomy_contracts.wallet import PASS_REMOVED, PassRemoved
from nujoomy_messaging import add_events
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_wallet_pass.apns import ApnsPool, PushResult
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.db import apple, programs, queries
from nujoomy_wallet_pass.domain.backoff import retry_delay
from nujoomy_wallet_pass.domain.links import pass_id
from nujoomy_wallet_pass.google_sync import (
    GoogleSync,
    ObjectState,
    forget_object,
    load_object_states,
    save_object_states,
)
from nujoomy_wallet_pass.render import build_content

log = structlog.get_logger("nujoomy.wallet.sync")

CLAIM_SECONDS = 60
SLOW_BATCH_SECONDS = 0.5  # worth a log line: a scan's push is meant to land well within a second

_CLAIM = text(
    "UPDATE sync_jobs j SET due_at = now() + make_interval(secs => :claim), attempts = j.attempts + 1 "
    "FROM (SELECT tenant_id, mode, member_id FROM sync_jobs WHERE due_at <= now() "
    "ORDER BY priority, due_at LIMIT :n FOR UPDATE SKIP LOCKED) c "
    "WHERE j.tenant_id = c.tenant_id AND j.mode = c.mode AND j.member_id = c.member_id "
    "RETURNING j.tenant_id, j.mode, j.member_id, j.generation, j.resync_id, j.attempts, j.priority"
)
_STATE = text(
    "SELECT m.tenant_id, m.mode, m.member_id, m.name, m.card_token, m.balance, m.status, p.id AS pass_id, "
    "p.authentication_token FROM members m JOIN passes p ON p.tenant_id = m.tenant_id AND p.mode = m.mode "
    "AND p.member_id = m.member_id AND p.wallet = 'apple' "
    "WHERE m.member_id = ANY(CAST(:ids AS uuid[]))"
)
_TOKENS = text(
    "SELECT pass_id, array_agg(DISTINCT push_token) FROM apple_registrations "
    "WHERE pass_id = ANY(CAST(:ids AS uuid[])) GROUP BY pass_id"
)
_KEYS = "CAST(:t AS uuid[]), CAST(:m AS text[]), CAST(:mb AS uuid[])"
_DONE = text(
    "DELETE FROM sync_jobs j USING unnest(" + _KEYS + ", CAST(:g AS bigint[])) AS d(t, m, mb, g) "
    "WHERE j.tenant_id = d.t AND j.mode = d.m AND j.member_id = d.mb AND j.generation = d.g"
)
# Bumped while we worked: the job runs again; a re-sync counts it once, now.
_UNCOUNT = text(
    "UPDATE sync_jobs j SET resync_id = NULL FROM unnest(" + _KEYS + ") AS d(t, m, mb) "
    "WHERE j.tenant_id = d.t AND j.mode = d.m AND j.member_id = d.mb AND j.resync_id IS NOT NULL"
)
_LATER = text(
    "UPDATE sync_jobs j SET due_at = now() + make_interval(secs => d.s) "
    "FROM unnest(" + _KEYS + ", CAST(:s AS float8[])) AS d(t, m, mb, s) "
    "WHERE j.tenant_id = d.t AND j.mode = d.m AND j.member_id = d.mb"
)
_PROGRESS = text(
    "UPDATE program_resyncs SET pushed = pushed + :n, "
    "finished_at = CASE WHEN pushed + :n >= total THEN now() ELSE finished_at END WHERE id = :id"
)


def _keys(jobs: list[Any]) -> dict[str, list[Any]]:
    return {"t": [j.tenant_id for j in jobs], "m": [j.mode for j in jobs], "mb": [j.member_id for j in jobs]}


class SyncRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wallet: WalletContext,
        apns: ApnsPool,
        google: GoogleSync | None,
    ) -> None:
        self.sessions = sessions
        self.wallet = wallet
        self.apns = apns
        self.google = google
        self.settings = wallet.settings
        self.pushes = 0

    async def run_until_idle(self) -> int:
        """Process batches until nothing is due (the PeriodicJob entry point); returns jobs done."""
        done = 0
        while True:
            n = await self.run_once()
            done += n
            if n == 0:
                return done

    async def run_once(self) -> int:
        started = time.monotonic()
        async with self.sessions() as db, db.begin():
            jobs = list(await db.execute(_CLAIM, {"n": self.settings.sync_batch, "claim": CLAIM_SECONDS}))
        if not jobs:
            return 0
        member_ids = [j.member_id for j in jobs]
        async with self.sessions() as db:
            states = {r.member_id: r for r in await db.execute(_STATE, {"ids": member_ids})}
            tokens = {
                r[0]: list(r[1])
                for r in await db.execute(_TOKENS, {"ids": [pass_id(m, "apple") for m in member_ids]})
            }
            objects = await load_object_states(db, member_ids) if self.google else {}
            program_of: dict[tuple[uuid.UUID, str], Program | None] = {}
            for key in {(j.tenant_id, j.mode) for j in jobs}:
                found = await programs.program_row(db, key[0], key[1])
                program_of[key] = found[0] if found else None
                await self.wallet.signers.resolve(db, key[0], key[1])  # the tenant's own certificate, if any
        outcomes = await asyncio.gather(
            *(self._sync_member(j, states, tokens, objects, program_of) for j in jobs)
        )
        await self._finish(jobs, outcomes, states)
        # A branding re-sync is paced so 10,000 passes do not hit APNs and Google in one burst.
        floor = sum(1 for j in jobs if j.priority > 0) / self.settings.resync_rate_per_second
        elapsed = time.monotonic() - started
        if elapsed < floor:
            await asyncio.sleep(floor - elapsed)
        return len(jobs)

    async def _sync_member(
        self,
        job: Any,
        states: dict[uuid.UUID, Any],
        tokens: dict[uuid.UUID, list[str]],
        objects: dict[uuid.UUID, Any],
        program_of: dict[tuple[uuid.UUID, str], Program | None],
    ) -> tuple[list[PushResult], bool, ObjectState | None]:
        state = states.get(job.member_id)
        if state is None or (state.tenant_id, state.mode) != (job.tenant_id, job.mode):
            return [], True, None  # unknown: nothing to push
        if state.status != "active":
            return [], await self._retire_google(job, objects), None
        base = self.settings.apns_base_url if job.mode == "live" else self.settings.apns_base_url_test
        signer = self.wallet.signers.cached(job.tenant_id, job.mode)
        client = self.apns.client(signer, base)
        results = list(await asyncio.gather(*(client.push(t) for t in tokens.get(state.pass_id, []))))
        ok = all(r.ok or not _retryable(r) for r in results)
        saved = None
        if self.google is not None:
            program = program_of.get((job.tenant_id, job.mode))
            content = build_content(
                self.settings,
                signer,
                mode=job.mode,
                member_id=job.member_id,
                authentication_token=state.authentication_token,
                card_token=state.card_token,
                balance=int(state.balance),
                name=state.name,
                program=program,
            )
            try:
                saved = await self.google.sync_member(
                    job, content, program, objects.get(pass_id(job.member_id, "google"))
                )
            except Exception as exc:  # Google down or refusing: retry the job later, keep the others going
                log.warning("google_sync_failed", member_id=str(job.member_id), error=repr(exc))
                ok = False
        self.pushes += sum(1 for r in results if r.ok)
        return results, ok, saved

    async def _retire_google(self, job: Any, objects: dict[uuid.UUID, Any]) -> bool:
        """An erased member's Google card becomes inactive (Apple devices were dropped at erasure)."""
        if self.google is None or pass_id(job.member_id, "google") not in objects:
            return True
        try:
            await self.google.retire(job)
        except Exception as exc:  # retried with the job's backoff
            log.warning("google_retire_failed", member_id=str(job.member_id), error=repr(exc))
            return False
        return True

    async def _finish(
        self,
        jobs: list[Any],
        outcomes: list[tuple[list[PushResult], bool, ObjectState | None]],
        states_by_member: dict[uuid.UUID, Any],
    ) -> None:
        done = [j for j, (_, ok, _) in zip(jobs, outcomes, strict=True) if ok]
        failed = [j for j, (_, ok, _) in zip(jobs, outcomes, strict=True) if not ok]
        pushed = [
            pass_id(j.member_id, "apple")
            for j, (r, _, _) in zip(jobs, outcomes, strict=True)
            if any(x.ok for x in r)
        ]
        async with self.sessions() as db, db.begin():
            removed = []
            for job, (results, _, _) in zip(jobs, outcomes, strict=True):
                for result in results:
                    if result.unregistered:
                        pid = pass_id(job.member_id, "apple")
                        for device in await apple.drop_push_token(db, pid, result.token):
                            removed.append(
                                (
                                    new_envelope(
                                        PASS_REMOVED,
                                        PassRemoved(
                                            pass_id=pid,
                                            member_id=job.member_id,
                                            wallet="apple",
                                            device_id=device,
                                        ),
                                        tenant_id=job.tenant_id,
                                        mode=job.mode,
                                    ),
                                    f"pass:{pid}",
                                )
                            )
            await add_events(db, removed)
            await save_object_states(db, [s for _, _, s in outcomes if s is not None])
            for job in done:
                state = states_by_member.get(job.member_id)
                if state is not None and state.status != "active":
                    await forget_object(db, job.member_id)
            if failed:
                delays = [retry_delay(j.attempts, base=1.0, cap=300.0) for j in failed]
                await db.execute(_LATER, {**_keys(failed), "s": delays})
            if done:
                await db.execute(_DONE, {**_keys(done), "g": [j.generation for j in done]})
                resyncing = [j for j in done if j.resync_id is not None]
                if resyncing:
                    await db.execute(_UNCOUNT, _keys(resyncing))
                    for resync_id, count in Counter(j.resync_id for j in resyncing).items():
                        await db.execute(_PROGRESS, {"n": count, "id": resync_id})
            await queries.mark_pushed(db, pushed, datetime.now(UTC))


def _retryable(result: PushResult) -> bool:
    return result.status == 429 or result.status >= 500
