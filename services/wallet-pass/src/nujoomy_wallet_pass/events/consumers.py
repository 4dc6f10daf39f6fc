"""The wallet-pass service's consumer purposes: one durable queue each.

- `wallet-pass.members`: the ledger's members, cards and balances → the member projection, passes,
  and an update job per change (stale balance sequences dropped); erasure forgets the member's data.
- `wallet-pass.programs`: tenant.program.updated → the branding projection (older versions dropped)
  and, when what a card shows has changed, a re-sync of every pass of the program.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import structlog
from nujoomy_contracts import Envelope, new_envelope
from nujoomy_contracts.ledger import (
    BALANCE_CHANGED,
    CARD_REISSUED,
    MEMBER_ENROLLED,
    MEMBER_ERASED,
    MEMBER_UPDATED,
    BalanceChanged,
    CardReissued,
    MemberEnrolled,
    MemberErased,
    MemberUpdated,
)
from nujoomy_contracts.tenant import PROGRAM_UPDATED, Program
from nujoomy_contracts.wallet import PASS_REMOVED, PassRemoved
from nujoomy_messaging import ConsumerSpec, add_event
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.db import programs, queries
from nujoomy_wallet_pass.images import fetch_images
from nujoomy_wallet_pass.settings import Settings

log = structlog.get_logger("nujoomy.wallet.events")

MEMBERS = "wallet-pass.members"
PROGRAMS = "wallet-pass.programs"


class WakeThrottle:
    """At most one runner wake-up (NOTIFY) per `interval` from this process: under a stream of scans
    the runner is awake anyway, and every NOTIFY serialises a commit in PostgreSQL."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = -interval

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.interval:
            return False
        self._last = now
        return True


_wake = WakeThrottle(0.01)


class MemberNotYetKnown(Exception):
    """A balance arrived before the enrolment (separate deliveries): retried until it is known."""


async def on_member_event(db: AsyncSession, event: Envelope[Any], *, google_delay: float = 0.0) -> None:
    """`google_delay`: seconds a Google job waits so a burst of changes is one PATCH (the worker
    passes `google_coalesce_seconds`; applied directly, as in tests, it is due at once)."""
    tenant, mode, data = event.tenant_id, event.mode, event.data
    if isinstance(data, MemberEnrolled):
        m = data.member
        await queries.enroll(
            db,
            tenant,
            mode,
            member_id=m.member_id,
            program_id=m.program_id,
            name=m.name,
            card_token=data.card_token,
        )
        # No coalescing delay: the member's Save link needs the object at Google soon.
        await queries.enqueue(db, tenant, mode, [m.member_id])
    elif isinstance(data, CardReissued):
        if await queries.reissue_card(db, tenant, mode, data.member_id, data.card_token) is None:
            raise MemberNotYetKnown(str(data.member_id))
        await queries.touch_member_passes(db, tenant, mode, data.member_id)
        await queries.enqueue(db, tenant, mode, [data.member_id], google_delay=google_delay)
    elif isinstance(data, BalanceChanged):
        applied = await queries.apply_balance(
            db,
            tenant,
            mode,
            data.member_id,
            balance=data.balance,
            sequence=data.sequence,
            google_delay=google_delay,
            wake=_wake(),
        )
        if applied is None:
            raise MemberNotYetKnown(str(data.member_id))
        if not applied:
            log.info("stale_balance_dropped", member_id=str(data.member_id), sequence=data.sequence)
    elif isinstance(data, MemberUpdated):
        changed = await queries.rename_member(db, tenant, mode, data.member.member_id, data.member.name)
        if changed is None:
            raise MemberNotYetKnown(str(data.member.member_id))
        if changed:
            await queries.touch_member_passes(db, tenant, mode, data.member.member_id)
            await queries.enqueue(db, tenant, mode, [data.member.member_id], google_delay=google_delay)
    elif isinstance(data, MemberErased):
        for pass_id, device in await queries.erase_member(db, tenant, mode, data.member_id):
            removed = PassRemoved(pass_id=pass_id, member_id=data.member_id, wallet="apple", device_id=device)
            await add_event(
                db, new_envelope(PASS_REMOVED, removed, tenant_id=tenant, mode=mode), f"pass:{pass_id}"
            )


async def on_member_events(
    db: AsyncSession, events: Sequence[Envelope[Any]], *, google_delay: float = 0.0
) -> None:
    """The batching consumer's path (one transaction, the inbox rows already written): enrolments,
    renames, reissues and erasures one by one in arrival order, then every balance change of the
    batch in one statement. A member not known yet raises, so the consumer applies the batch again
    one message at a time and only that change is retried."""
    changes = []
    for event in events:
        if isinstance(event.data, BalanceChanged):
            data = event.data
            changes.append((event.tenant_id, event.mode, data.member_id, data.balance, data.sequence))
        else:
            await on_member_event(db, event, google_delay=google_delay)
    if not changes:
        return
    result = await queries.apply_balances(db, changes, google_delay=google_delay, wake=_wake())
    if result.unknown:
        raise MemberNotYetKnown(f"{result.unknown} member(s) of a balance batch")
    if result.stale:
        log.info("stale_balances_dropped", count=result.stale)


def on_program_updated(settings: Settings) -> Any:
    async def handle(db: AsyncSession, event: Envelope[Program]) -> None:
        program = event.data
        previous = await programs.upsert_program(db, event.tenant_id, event.mode, program)
        if previous is None:
            log.info("stale_program_dropped", version=program.version)
            return
        version = programs.branding_version(program)
        if not await programs.images_for(db, event.tenant_id, event.mode, version):
            images = await fetch_images(settings.tenant_url, program.branding)
            await programs.store_images(db, event.tenant_id, event.mode, version, images)
        if previous != version:
            await queries.start_resync(db, event.tenant_id, event.mode, program.program_id, version)

    return handle


def consumer_specs(settings: Settings) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name=MEMBERS,
            routing_keys=(MEMBER_ENROLLED, MEMBER_UPDATED, MEMBER_ERASED, CARD_REISSUED, BALANCE_CHANGED),
            # Also the fallback when a batch fails (a member not known yet, say).
            handler=partial(on_member_event, google_delay=settings.google_coalesce_seconds),
            batch_handler=partial(on_member_events, google_delay=settings.google_coalesce_seconds),
            batch_size=settings.member_events_batch,
            batch_linger=settings.member_events_linger_seconds,
            retry_delays_ms=(200, 1_000, 5_000, 30_000, 120_000),
            concurrency=32,
        ),
        ConsumerSpec(name=PROGRAMS, routing_keys=(PROGRAM_UPDATED,), handler=on_program_updated(settings)),
    ]


# The names the CLI knows for dead-letter inspection (`nujoomy dlq list`).
CONSUMER_NAMES: tuple[str, ...] = (MEMBERS, PROGRAMS)
