"""The update-job runner: claims due jobs, reads each member's state as it is *now* (so a burst of
changes costs one push), pushes every registered Apple device and patches the Google object.

A job row is deleted only if its generation is still the one read; a change that arrived meanwhile
bumped it, and the job simply runs again. A crash leaves the claim to expire (60 s) and re-run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import structlog
from nujoomy_contracts import new_envelope
from nujoomy_contracts.tenant import Program
from nujoomy_contracts.wallet import PASS_REMOVED, PassRemoved
from nujoomy_messaging import add_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_wallet_pass.apns import ApnsPool, PushResult
from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.db import apple, queries
from nujoomy_wallet_pass.domain.backoff import retry_delay
from nujoomy_wallet_pass.google_sync import GoogleSync
from nujoomy_wallet_pass.render import build_content

log = structlog.get_logger("nujoomy.wallet.sync")

CLAIM_SECONDS = 60

_CLAIM = text(
    "UPDATE sync_jobs j SET due_at = now() + make_interval(secs => :claim), attempts = j.attempts + 1 "
    "FROM (SELECT tenant_id, mode, member_id FROM sync_jobs WHERE due_at <= now() "
    "ORDER BY priority, due_at LIMIT :n FOR UPDATE SKIP LOCKED) c "
    "WHERE j.tenant_id = c.tenant_id AND j.mode = c.mode AND j.member_id = c.member_id "
    "RETURNING j.tenant_id, j.mode, j.member_id, j.generation, j.resync_id, j.attempts, j.priority"
)

_STATE = text(
    "SELECT m.tenant_id, m.mode, m.member_id, m.name, m.card_token, m.balance, p.id AS pass_id, "
    "p.authentication_token FROM members m JOIN passes p ON p.tenant_id = m.tenant_id AND p.mode = m.mode "
    "AND p.member_id = m.member_id AND p.wallet = 'apple' "
    "WHERE m.member_id = ANY(CAST(:ids AS uuid[])) AND m.status = 'active'"
)

_TOKENS = text(
    "SELECT pass_id, array_agg(DISTINCT push_token) FROM apple_registrations "
    "WHERE pass_id = ANY(CAST(:ids AS uuid[])) GROUP BY pass_id"
)


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
        async with self.sessions() as db:
            states = {r.member_id: r for r in await db.execute(_STATE, {"ids": [j.member_id for j in jobs]})}
            tokens = {
                r[0]: list(r[1])
                for r in await db.execute(_TOKENS, {"ids": [s.pass_id for s in states.values()]})
            }
            programs: dict[tuple[uuid.UUID, str], Program | None] = {}
            for key in {(j.tenant_id, j.mode) for j in jobs}:
                found = await queries.program_row(db, key[0], key[1])
                programs[key] = found[0] if found else None
        outcomes = await asyncio.gather(*(self._sync_member(j, states, tokens, programs) for j in jobs))
        await self._finish(jobs, outcomes)
        # A branding re-sync is paced so 10,000 passes do not hit APNs and Google in one burst.
        resyncs = sum(1 for j in jobs if j.priority > 0)
        floor = resyncs / self.settings.resync_rate_per_second
        elapsed = time.monotonic() - started
        if elapsed < floor:
            await asyncio.sleep(floor - elapsed)
        return len(jobs)

    async def _sync_member(
        self,
        job: Any,
        states: dict[uuid.UUID, Any],
        tokens: dict[uuid.UUID, list[str]],
        programs: dict[tuple[uuid.UUID, str], Program | None],
    ) -> tuple[list[PushResult], bool]:
        state = states.get(job.member_id)
        if state is None or (state.tenant_id, state.mode) != (job.tenant_id, job.mode):
            return [], True  # erased or unknown: nothing to push
        base = self.settings.apns_base_url if job.mode == "live" else self.settings.apns_base_url_test
        client = self.apns.client(self.wallet.credentials, base)
        results = list(await asyncio.gather(*(client.push(t) for t in tokens.get(state.pass_id, []))))
        ok = all(r.ok or not _retryable(r) for r in results)
        if self.google is not None:
            content = build_content(
                self.settings,
                self.wallet.credentials,
                mode=job.mode,
                member_id=job.member_id,
                authentication_token=state.authentication_token,
                card_token=state.card_token,
                balance=int(state.balance),
                name=state.name,
                program=programs.get((job.tenant_id, job.mode)),
            )
            try:
                await self.google.sync_member(job, content, programs.get((job.tenant_id, job.mode)))
            except Exception as exc:  # Google down or refusing: retry the job later, keep the others going
                log.warning("google_sync_failed", member_id=str(job.member_id), error=repr(exc))
                ok = False
        self.pushes += sum(1 for r in results if r.ok)
        return results, ok

    async def _finish(self, jobs: list[Any], outcomes: list[tuple[list[PushResult], bool]]) -> None:
        now = datetime.now(UTC)
        per_resync: dict[uuid.UUID, int] = defaultdict(int)
        async with self.sessions() as db, db.begin():
            pushed_passes = []
            for job, (results, ok) in zip(jobs, outcomes, strict=True):
                pass_row = None
                for result in results:
                    if result.unregistered:
                        pid = _apple_pass(job.member_id)
                        for device in await apple.drop_push_token(db, pid, result.token):
                            pass_row = pass_row or await apple.apple_pass(db, pid)
                            await add_event(
                                db,
                                new_envelope(
                                    PASS_REMOVED,
                                    PassRemoved(
                                        pass_id=pid, member_id=job.member_id, wallet="apple", device_id=device
                                    ),
                                    tenant_id=job.tenant_id,
                                    mode=job.mode,
                                ),
                                f"pass:{pid}",
                            )
                if any(r.ok for r in results):
                    pushed_passes.append(_apple_pass(job.member_id))
                if not ok:
                    delay = retry_delay(job.attempts, base=1.0, cap=300.0)
                    await db.execute(
                        text(
                            "UPDATE sync_jobs SET due_at = now() + make_interval(secs => :d) "
                            "WHERE tenant_id = :t AND mode = :m AND member_id = :mb"
                        ),
                        {"d": delay, "t": job.tenant_id, "m": job.mode, "mb": job.member_id},
                    )
                    continue
                deleted = await db.execute(
                    text(
                        "DELETE FROM sync_jobs WHERE tenant_id = :t AND mode = :m AND member_id = :mb "
                        "AND generation = :g RETURNING 1"
                    ),
                    {"t": job.tenant_id, "m": job.mode, "mb": job.member_id, "g": job.generation},
                )
                if deleted.first() is None and job.resync_id is not None:
                    # Bumped meanwhile: it runs again, but this re-sync has been counted once.
                    await db.execute(
                        text(
                            "UPDATE sync_jobs SET resync_id = NULL WHERE tenant_id = :t AND mode = :m "
                            "AND member_id = :mb AND resync_id = :r"
                        ),
                        {"t": job.tenant_id, "m": job.mode, "mb": job.member_id, "r": job.resync_id},
                    )
                if job.resync_id is not None:
                    per_resync[job.resync_id] += 1
            await queries.mark_pushed(db, pushed_passes, now)
            for resync_id, count in per_resync.items():
                await db.execute(
                    text(
                        "UPDATE program_resyncs SET pushed = pushed + :n, finished_at = CASE WHEN "
                        "pushed + :n >= total THEN now() ELSE finished_at END WHERE id = :id"
                    ),
                    {"n": count, "id": resync_id},
                )


def _retryable(result: PushResult) -> bool:
    return result.status == 429 or result.status >= 500


def _apple_pass(member_id: uuid.UUID) -> uuid.UUID:
    from nujoomy_wallet_pass.domain.links import pass_id

    return pass_id(member_id, "apple")
