"""Queries over the wallet-pass tables. Every function takes the session first and filters by
(tenant_id, mode) wherever a caller's principal is involved."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.domain.links import pass_id

# Last-Modified is an HTTP date (whole seconds) and If-Modified-Since is compared at that resolution,
# so every change moves updated_at to a whole second strictly after the previous value: two changes
# within one second can never share a Last-Modified and hide the second from a device.
_NEXT_SECOND = "GREATEST(date_trunc('second', now()) + interval '1 second', updated_at + interval '1 second')"

# The Apple runner LISTENs here; a queued job NOTIFYs at commit, so a scan's push does not wait for a poll.
# PostgreSQL serialises the commits of notifying transactions (the notify queue lock is held through
# commit), so the per-scan path notifies at most every few milliseconds per consumer process
# (events/consumers.py); a job queued in between is claimed when the runner's current batch ends.
SYNC_CHANNEL = "wallet_pass_sync"

# A change inserts the member's job or bumps its generation (the runner reads the state when it runs,
# so many changes cost one push). A bump makes an Apple job due now (a push after every change is
# what Wallet needs), clears a terminal failure and restarts the attempt count.
_UPSERT_SYNC_JOB = (
    "INSERT INTO sync_jobs (tenant_id, mode, member_id, priority, resync_id) {rows} "
    "ON CONFLICT (tenant_id, mode, member_id) DO UPDATE SET "
    "generation = sync_jobs.generation + 1, due_at = LEAST(sync_jobs.due_at, now()), "
    "priority = LEAST(sync_jobs.priority, excluded.priority), "
    "resync_id = COALESCE(excluded.resync_id, sync_jobs.resync_id), attempts = 0, failed_at = NULL, "
    "last_error = NULL"
)
# Google jobs come due after a short coalescing delay (:d seconds) and a bump keeps the schedule: a
# job already waiting (for its delay, the quota or a backoff) will read the newest state anyway.
# A job stopped in its terminal state is revived by the change.
_GOOGLE_DUE = "now() + make_interval(secs => :d)"
_GOOGLE_ROWS_APPLIED = f"SELECT :t, :m, member_id, 0, {_GOOGLE_DUE} FROM applied"
_UPSERT_GOOGLE_JOB = (
    "INSERT INTO google_jobs (tenant_id, mode, member_id, priority, due_at) {rows} "
    "ON CONFLICT (tenant_id, mode, member_id) DO UPDATE SET generation = google_jobs.generation + 1, "
    "priority = LEAST(google_jobs.priority, excluded.priority), "
    "due_at = CASE WHEN google_jobs.failed_at IS NULL THEN google_jobs.due_at ELSE excluded.due_at END, "
    "attempts = CASE WHEN google_jobs.failed_at IS NULL THEN google_jobs.attempts ELSE 0 END, "
    "failed_at = NULL"
)


async def enroll(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    *,
    member_id: uuid.UUID,
    program_id: uuid.UUID | None,
    name: str | None,
    card_token: str,
) -> None:
    await db.execute(
        text(
            "INSERT INTO members (tenant_id, mode, member_id, program_id, name, card_token) "
            "VALUES (:t, :m, :mb, :p, :n, :c) ON CONFLICT DO NOTHING"
        ),
        {"t": tenant_id, "m": mode, "mb": member_id, "p": program_id, "n": name, "c": card_token},
    )
    await _issue_passes(db, tenant_id, mode, member_id, 0)


async def _issue_passes(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, generation: int
) -> None:
    """The card's two passes (Apple, Google), each with its own fresh authentication token."""
    for wallet in ("apple", "google"):
        await db.execute(
            text(
                "INSERT INTO passes "
                "(id, tenant_id, mode, member_id, wallet, generation, authentication_token, updated_at) "
                "VALUES (:id, :t, :m, :mb, :w, :g, :a, date_trunc('second', now())) ON CONFLICT DO NOTHING"
            ),
            {
                "id": pass_id(member_id, wallet, generation),  # type: ignore[arg-type]
                "t": tenant_id,
                "m": mode,
                "mb": member_id,
                "w": wallet,
                "g": generation,
                # 32 URL-safe characters: Apple requires at least 16; a pass's token never changes,
                # a reissued card gets new passes with new tokens.
                "a": secrets.token_urlsafe(24),
            },
        )


async def reissue_card(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, card_token: str
) -> int | None:
    """A lost card replaced: the member's next card generation gets new passes (serial, token,
    Google object, links) and the older passes are voided, their devices due one more push so Wallet
    fetches the voided pass. The new generation, or None if the member is not known yet."""
    generation = (
        await db.execute(
            text(
                "UPDATE members SET card_token = :c, generation = generation + 1, updated_at = now() "
                "WHERE tenant_id = :t AND mode = :m AND member_id = :mb RETURNING generation"
            ),
            {"t": tenant_id, "m": mode, "mb": member_id, "c": card_token},
        )
    ).scalar()
    if generation is None:
        return None
    await db.execute(
        text(
            "UPDATE passes SET voided_at = now(), void_push_due = (wallet = 'apple'), "
            f"updated_at = {_NEXT_SECOND} WHERE tenant_id = :t AND mode = :m AND member_id = :mb "
            "AND generation < :g AND voided_at IS NULL"
        ),
        {"t": tenant_id, "m": mode, "mb": member_id, "g": generation},
    )
    await _issue_passes(db, tenant_id, mode, member_id, int(generation))
    return int(generation)


async def card_generation(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID
) -> int | None:
    """The member's current card generation in this tenant and mode; None if not enrolled (yet)."""
    return (
        await db.execute(
            text("SELECT generation FROM members WHERE tenant_id = :t AND mode = :m AND member_id = :mb"),
            {"t": tenant_id, "m": mode, "mb": member_id},
        )
    ).scalar()


async def rename_member(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID, name: str | None
) -> bool | None:
    """True if the name shown on the card changed, False if not, None if the member is unknown."""
    row = (
        await db.execute(
            text(
                "UPDATE members m SET name = :n, updated_at = now() FROM members o "
                "WHERE m.tenant_id = :t AND m.mode = :m AND m.member_id = :mb AND o.tenant_id = m.tenant_id "
                "AND o.mode = m.mode AND o.member_id = m.member_id RETURNING o.name IS DISTINCT FROM :n"
            ),
            {"t": tenant_id, "m": mode, "mb": member_id, "n": name},
        )
    ).first()
    return None if row is None else bool(row[0])


async def erase_member(db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID) -> list[Any]:
    """GDPR erasure: forget the name and card token, stop serving the pass (its web-service calls
    answer 401, which tells Wallet to stop asking), and drop the devices. Returns the dropped
    registrations (pass id, device)."""
    await db.execute(
        text(
            "UPDATE members SET status = 'erased', name = NULL, card_token = '', updated_at = now() "
            "WHERE tenant_id = :t AND mode = :m AND member_id = :mb"
        ),
        {"t": tenant_id, "m": mode, "mb": member_id},
    )
    # One more job: it retires the Google object (the runner sees the erased status).
    await enqueue(db, tenant_id, mode, [member_id])
    rows = await db.execute(
        text(
            "DELETE FROM apple_registrations r USING passes p WHERE p.id = r.pass_id AND p.tenant_id = :t "
            "AND p.mode = :m AND p.member_id = :mb RETURNING r.pass_id, r.device_library_id"
        ),
        {"t": tenant_id, "m": mode, "mb": member_id},
    )
    return list(rows)


async def apply_balance(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    member_id: uuid.UUID,
    *,
    balance: int,
    sequence: int,
    google_delay: float = 0.0,
    wake: bool = True,
) -> bool | None:
    """Apply a newer balance, move the member's passes' Last-Modified, queue (or bump) the Apple and
    the Google job and (if `wake`) wake the Apple runner, in one statement (this runs for every
    scan). True if applied, False if stale (dropped), None if the member is not known yet."""
    row = (
        await db.execute(
            text(
                "WITH applied AS (UPDATE members SET balance = :b, sequence = :s, updated_at = now() "
                "WHERE tenant_id = :t AND mode = :m AND member_id = :mb AND sequence < :s RETURNING "
                "member_id), "
                f"touched AS (UPDATE passes SET updated_at = {_NEXT_SECOND} WHERE tenant_id = :t AND mode = "
                ":m AND member_id IN (SELECT member_id FROM applied) AND voided_at IS NULL RETURNING 1), "
                f"queued AS ({_UPSERT_SYNC_JOB.format(rows='SELECT :t, :m, member_id, 0, NULL FROM applied')}"
                " RETURNING 1), "
                f"google AS ({_UPSERT_GOOGLE_JOB.format(rows=_GOOGLE_ROWS_APPLIED)} RETURNING 1) "
                "SELECT (SELECT count(*) FROM applied) AS applied, "
                f"(SELECT count(*) FROM (SELECT pg_notify('{SYNC_CHANNEL}', '') FROM applied WHERE :w) n) "
                "AS woken, "
                "EXISTS (SELECT 1 FROM members WHERE tenant_id = :t AND mode = :m AND member_id = :mb) AS "
                "known"
            ),
            {
                "t": tenant_id,
                "m": mode,
                "mb": member_id,
                "b": balance,
                "s": sequence,
                "d": google_delay,
                "w": wake,
            },
        )
    ).one()
    if row.applied:
        return True
    return False if row.known else None


class BalanceBatch:
    """What `apply_balances` did with a batch: members applied, stale changes dropped, and the
    members not known yet (nothing is applied when there are any: the caller retries per message)."""

    __slots__ = ("applied", "stale", "unknown")

    def __init__(self, applied: int, stale: int, unknown: int) -> None:
        self.applied, self.stale, self.unknown = applied, stale, unknown


# The batch form of `apply_balance`: per member only the newest sequence of the batch counts, and
# only if newer than the stored one; the passes of the applied members are touched and their Apple
# and Google jobs queued or bumped, all in one statement (one row per member, so ON CONFLICT never
# meets a member twice). The tenant and mode come with each change: a batch spans tenants.
_APPLY_BALANCES = (
    "WITH changes AS (SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:m AS varchar[]), CAST(:mb AS uuid[]), "
    "CAST(:b AS bigint[]), CAST(:s AS bigint[])) AS c(tenant_id, mode, member_id, balance, sequence)), "
    "newest AS (SELECT DISTINCT ON (tenant_id, mode, member_id) * FROM changes "
    "ORDER BY tenant_id, mode, member_id, sequence DESC), "
    "unknown AS (SELECT 1 FROM newest n WHERE NOT EXISTS (SELECT 1 FROM members x WHERE "
    "x.tenant_id = n.tenant_id AND x.mode = n.mode AND x.member_id = n.member_id)), "
    "applied AS (UPDATE members x SET balance = n.balance, sequence = n.sequence, updated_at = now() "
    "FROM newest n WHERE NOT EXISTS (SELECT 1 FROM unknown) AND x.tenant_id = n.tenant_id "
    "AND x.mode = n.mode AND x.member_id = n.member_id AND x.sequence < n.sequence "
    "RETURNING x.tenant_id, x.mode, x.member_id), "
    f"touched AS (UPDATE passes p SET updated_at = {_NEXT_SECOND} FROM applied a WHERE "
    "p.tenant_id = a.tenant_id AND p.mode = a.mode AND p.member_id = a.member_id AND p.voided_at IS NULL "
    "RETURNING 1), "
    f"queued AS ({_UPSERT_SYNC_JOB.format(rows='SELECT tenant_id, mode, member_id, 0, NULL FROM applied')}"
    " RETURNING 1), "
    "google AS ("
    + _UPSERT_GOOGLE_JOB.format(rows=f"SELECT tenant_id, mode, member_id, 0, {_GOOGLE_DUE} FROM applied")
    + " RETURNING 1) "
    "SELECT (SELECT count(*) FROM applied) AS applied, (SELECT count(*) FROM unknown) AS unknown, "
    f"(SELECT count(*) FROM (SELECT pg_notify('{SYNC_CHANNEL}', '') WHERE :w AND EXISTS "
    "(SELECT 1 FROM applied)) n) AS woken"
)


async def apply_balances(
    db: AsyncSession,
    changes: Sequence[tuple[uuid.UUID, str, uuid.UUID, int, int]],
    *,
    google_delay: float = 0.0,
    wake: bool = True,
) -> BalanceBatch:
    """Apply many balance changes (tenant, mode, member, balance, sequence) in one statement with at
    most one NOTIFY; duplicates and out-of-order sequences end at the newest balance. If any member
    is not known yet nothing is applied (`unknown` > 0)."""
    t, m, mb, b, s = (list(column) for column in zip(*changes, strict=True))
    row = (
        await db.execute(
            text(_APPLY_BALANCES),
            {"t": t, "m": m, "mb": mb, "b": b, "s": s, "d": google_delay, "w": wake},
        )
    ).one()
    applied, unknown = int(row.applied), int(row.unknown)
    return BalanceBatch(applied, 0 if unknown else len(changes) - applied, unknown)


async def touch_member_passes(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID
) -> None:
    await db.execute(
        text(
            f"UPDATE passes SET updated_at = {_NEXT_SECOND} "
            "WHERE tenant_id = :t AND mode = :m AND member_id = :mb AND voided_at IS NULL"
        ),
        {"t": tenant_id, "m": mode, "mb": member_id},
    )


async def enqueue(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: str,
    member_ids: Sequence[uuid.UUID],
    *,
    priority: int = 0,
    resync_id: uuid.UUID | None = None,
    google_delay: float = 0.0,
) -> None:
    """Ask for the members' passes to be pushed (Apple) and their objects brought up to date (Google).
    An existing job is bumped, not duplicated; the Apple runner is woken at commit."""
    params = {"t": tenant_id, "m": mode, "ids": list(member_ids), "p": priority, "r": resync_id}
    rows = "SELECT :t, :m, unnest(CAST(:ids AS uuid[])), :p, CAST(:r AS uuid)"
    await db.execute(text(_UPSERT_SYNC_JOB.format(rows=rows)), params)
    await db.execute(
        text(_UPSERT_GOOGLE_JOB.format(rows=rows.replace("CAST(:r AS uuid)", _GOOGLE_DUE))),
        {**params, "d": google_delay},
    )
    await db.execute(text(f"SELECT pg_notify('{SYNC_CHANNEL}', '')"))


async def start_resync(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, program_id: uuid.UUID, version: str
) -> tuple[uuid.UUID, int]:
    """Re-render every pass of the program: touch them all and queue one low-priority job each."""
    resync_id = uuid.uuid4()
    members = [
        r[0]
        for r in await db.execute(
            text("SELECT member_id FROM members WHERE tenant_id = :t AND mode = :m AND status = 'active'"),
            {"t": tenant_id, "m": mode},
        )
    ]
    await db.execute(
        text(
            "INSERT INTO program_resyncs (id, tenant_id, mode, program_id, branding_version, total) "
            "VALUES (:id, :t, :m, :p, :v, :n)"
        ),
        {"id": resync_id, "t": tenant_id, "m": mode, "p": program_id, "v": version, "n": len(members)},
    )
    await db.execute(
        text(
            f"UPDATE passes SET updated_at = {_NEXT_SECOND} WHERE tenant_id = :t AND mode = :m "
            "AND voided_at IS NULL"
        ),
        {"t": tenant_id, "m": mode},
    )
    await enqueue(db, tenant_id, mode, members, priority=1, resync_id=resync_id)
    return resync_id, len(members)


async def resync_progress(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, program_id: uuid.UUID
) -> Row[Any] | None:
    return (
        await db.execute(
            text(
                "SELECT id, total, pushed, started_at, finished_at, branding_version FROM program_resyncs "
                "WHERE tenant_id = :t AND mode = :m AND program_id = :p ORDER BY started_at DESC LIMIT 1"
            ),
            {"t": tenant_id, "m": mode, "p": program_id},
        )
    ).first()


async def member_passes(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID
) -> list[Row[Any]]:
    rows = await db.execute(
        text(
            "SELECT p.id, p.wallet, p.updated_at, p.last_pushed_at, p.last_fetched_at, "
            "(SELECT count(*) FROM apple_registrations r WHERE r.pass_id = p.id) AS devices, "
            "g.object_id, g.balance_sent FROM passes p LEFT JOIN google_objects g ON g.pass_id = p.id "
            "WHERE p.tenant_id = :t AND p.mode = :m AND p.member_id = :mb AND p.voided_at IS NULL "
            "ORDER BY p.wallet"
        ),
        {"t": tenant_id, "m": mode, "mb": member_id},
    )
    return list(rows)


async def mark_pushed(db: AsyncSession, pass_ids: Sequence[uuid.UUID], at: datetime) -> None:
    await db.execute(
        text("UPDATE passes SET last_pushed_at = :at WHERE id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": list(pass_ids), "at": at},
    )


async def pass_counts(db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> tuple[int, int]:
    """Installed passes: Apple ones with a registered device, Google ones saved in a Google Wallet
    (the save/delete callbacks keep `saved`; an object merely created at Google is not installed)."""
    row = (
        await db.execute(
            text(
                "SELECT (SELECT count(DISTINCT r.pass_id) FROM apple_registrations r "
                "        JOIN passes p ON p.id = r.pass_id "
                "        WHERE r.tenant_id = :t AND r.mode = :m AND p.voided_at IS NULL), "
                "       (SELECT count(*) FROM google_objects WHERE tenant_id = :t AND mode = :m AND saved)"
            ),
            {"t": tenant_id, "m": mode},
        )
    ).one()
    return int(row[0]), int(row[1])
