"""The members queue in batches: many balance changes in one transaction and one statement, the
newest sequence per member wins, one job per member, exactly once through the inbox, and a change
for a member not known yet falls back to the one-message path (retried until the enrolment)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from nujoomy_contracts import Envelope
from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_messaging import Topology
from nujoomy_testing import eventually
from nujoomy_wallet_pass.events.consumers import MEMBERS, MemberNotYetKnown, on_member_events
from nujoomy_wallet_pass.settings import Settings
from test_sync import running_worker, scalar
from wallet_pass_helpers import apply, balance, enrolled, publish

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a0b1")
OTHER = uuid.UUID("0190f000-0000-7000-8000-00000000a0b2")


async def apply_batch(settings: Settings, events: list[Envelope[Any]]) -> None:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            await on_member_events(db, events)
    finally:
        await engine.dispose()


async def modified(settings: Settings, member: uuid.UUID) -> Any:
    return await scalar(settings, "SELECT min(updated_at) FROM passes WHERE member_id = $1", member)


async def state(settings: Settings, member: uuid.UUID) -> tuple[object, ...]:
    """(balance, sequence, Apple job generation, Google job generation, jobs for the member)."""
    return (
        await scalar(settings, "SELECT balance FROM members WHERE member_id = $1", member),
        await scalar(settings, "SELECT sequence FROM members WHERE member_id = $1", member),
        await scalar(settings, "SELECT generation FROM sync_jobs WHERE member_id = $1", member),
        await scalar(settings, "SELECT generation FROM google_jobs WHERE member_id = $1", member),
        await scalar(
            settings,
            "SELECT (SELECT count(*) FROM sync_jobs WHERE member_id = $1) "
            "+ (SELECT count(*) FROM google_jobs WHERE member_id = $1)",
            member,
        ),
    )


async def test_a_batch_keeps_the_newest_sequence_per_member_and_bumps_each_job_once(
    settings: Settings,
) -> None:
    a, b, quiet = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    c = uuid.uuid4()  # another tenant: a batch spans tenants
    await apply(settings, enrolled(TENANT, a, None), enrolled(TENANT, b, None), enrolled(TENANT, quiet, None))
    await apply(settings, enrolled(OTHER, c, None), balance(TENANT, b, 70, 7))
    late = uuid.uuid4()  # enrolled in the batch itself, before its first balance
    batch = [
        balance(TENANT, a, 30, 3),
        balance(TENANT, a, 10, 1),
        balance(TENANT, a, 50, 5),
        balance(TENANT, a, 50, 5),  # the same change twice (a ledger retry)
        balance(TENANT, a, 40, 4),
        balance(TENANT, b, 60, 6),  # older than what b already shows: dropped
        balance(OTHER, c, 5, 2),
        enrolled(TENANT, late, None),
        balance(TENANT, late, 9, 1),
    ]
    modified_a, modified_quiet = await modified(settings, a), await modified(settings, quiet)
    await apply_batch(settings, batch)

    assert await state(settings, a) == (50, 5, 2, 2, 2)  # enrolment's job + one bump for the batch
    assert await state(settings, b) == (70, 7, 2, 2, 2)  # only the earlier single change bumped it
    assert await state(settings, c) == (5, 2, 2, 2, 2)
    assert await state(settings, late) == (9, 1, 2, 2, 2)
    assert await state(settings, quiet) == (0, 0, 1, 1, 2)
    # The applied member's passes moved (Last-Modified); the untouched member's did not.
    assert await modified(settings, a) > modified_a
    assert await modified(settings, quiet) == modified_quiet

    await apply_batch(settings, [balance(TENANT, a, 20, 2), balance(TENANT, b, 1, 1)])  # all stale
    assert await state(settings, a) == (50, 5, 2, 2, 2)
    assert await state(settings, b) == (70, 7, 2, 2, 2)


async def test_a_batch_with_an_unknown_member_applies_nothing(settings: Settings) -> None:
    known, unknown = uuid.uuid4(), uuid.uuid4()
    await apply(settings, enrolled(TENANT, known, None))
    with pytest.raises(MemberNotYetKnown):
        await apply_batch(settings, [balance(TENANT, known, 5, 1), balance(TENANT, unknown, 5, 1)])
    assert await state(settings, known) == (0, 0, 1, 1, 2)


async def test_the_batching_consumer_applies_each_change_once_and_waits_for_late_enrolments(
    settings: Settings, topology: Topology
) -> None:
    # Consumers only: the runners would take the jobs this test counts.
    settings = msgspec.structs.replace(settings, worker_sync=False, worker_google=False)
    members = [uuid.uuid4() for _ in range(5)]
    late = uuid.uuid4()
    changes = [balance(TENANT, m, 10 * s, s) for s in (3, 1, 4, 2) for m in members]
    async with running_worker(settings) as (worker, _):
        await publish(settings.amqp_url, topology, *(enrolled(TENANT, m, None) for m in members))
        await eventually(
            lambda: scalar(settings, "SELECT count(*) FROM members"), lambda n: n == len(members)
        )
        # Every change twice (redelivery), out of order, and one for a member enrolled afterwards.
        await publish(settings.amqp_url, topology, *changes, balance(TENANT, late, 8, 1), *changes)
        (consumer,) = [c for c in worker.consumers if c.spec.name == MEMBERS]
        await eventually(lambda: _count(consumer), lambda n: n >= 2 * len(changes) + len(members))
        await publish(settings.amqp_url, topology, enrolled(TENANT, late, None))
        await eventually(lambda: state(settings, late), lambda s: s[0] == 8)
    assert consumer.duplicates >= len(changes)
    for m in members:
        # Four changes applied at most once each: the generation counts the batches that moved it.
        balance_, sequence, apple, google, jobs = await state(settings, m)
        assert (balance_, sequence, jobs) == (40, 4, 2)
        assert apple == google
        assert int(str(apple)) in (2, 3)
    assert await scalar(settings, "SELECT count(*) FROM inbox") == len(members) * 5 + 2


async def _count(consumer: Any) -> int:
    return int(consumer.processed + consumer.duplicates)
