"""Events that arrive together are applied together: one transaction for the batch (its inbox rows
and every message row share PostgreSQL's transaction id, `xmin`), with the same outcome as one event
at a time — consent, the daily cap, a later change of consent, a copy of an event — and a batch that
fails is rolled back whole and applied again one event at a time."""

from __future__ import annotations

from nujoomy_contracts import ledger, new_envelope
from nujoomy_kit.ids import encode_id
from nujoomy_testing import eventually

# Room for every event of a test in one batch, and time for all of them to arrive.
BATCHING = {"consumer_batch": 100, "consumer_linger_s": 1.0}
# The sender's update of a row gives it a new xmin: tests reading who wrote the rows keep it idle.
NO_SENDING = {"sender_poll_s": 3600.0}


async def _transactions(bus, table: str) -> set[str]:
    """The transactions that wrote `table`'s rows (xmin: the id of the transaction that inserted a row)."""
    return {r["xid"] for r in await bus.fetch(f"SELECT xmin::text AS xid FROM {table}")}


async def _written(bus, count):
    return await eventually(
        lambda: bus.fetch("SELECT * FROM messages ORDER BY id"), lambda r: len(r) >= count
    )


async def _settled(bus, count):
    return await eventually(
        lambda: bus.fetch("SELECT * FROM messages WHERE status <> 'queued' ORDER BY id"),
        lambda rows: len(rows) >= count,
    )


async def test_events_published_together_are_applied_in_one_transaction(bus, make, sink, wallet, run_worker):
    members = [make.member(email=f"m{i}@example.com") for i in range(10)]
    async with run_worker(**BATCHING, **NO_SENDING):
        # Each member's enrolment and first earn: the earn must see the contact its enrolment wrote.
        await bus.publish(*(e for m in members for e in (make.enrolled(m), make.earned(m, 10, 10))))
        rows = await _written(bus, 20)
    assert (
        sorted((r["kind"], r["status"]) for r in rows)
        == [("points_earned", "queued")] * 10 + [("welcome", "queued")] * 10
    )
    inbox = await _transactions(bus, "inbox")
    assert len(await bus.fetch("SELECT 1 FROM inbox")) == 20
    assert len(inbox) == 1, f"20 events applied in {len(inbox)} transactions"
    assert await _transactions(bus, "messages") == inbox, "the messages commit with their inbox rows"
    assert len(wallet.requests) == 10


async def test_a_batch_keeps_the_rules_of_one_event_at_a_time(bus, make, sink, wallet, run_worker):
    capped = make.member(email="capped@example.com")
    opted_out = make.member(email="out@example.com", consent_email=False)
    withdrawn = make.member(email="withdrawn@example.com")
    no_longer = ledger.Member(**{**_fields(withdrawn), "consent_email": False})
    earn = make.earned(capped, 5, 5)
    async with run_worker(daily_cap=2, **BATCHING, **NO_SENDING) as running:
        await bus.publish(
            make.enrolled(capped),
            earn,
            make.earned(capped, 5, 10),  # the welcome and the first earn used today's two
            make.enrolled(opted_out),
            make.expiring(opted_out, 5),
            make.enrolled(withdrawn),
            make.expiring(withdrawn, 5),  # before the member withdrew consent
            new_envelope(
                ledger.MEMBER_UPDATED,
                ledger.MemberUpdated(member=no_longer),
                tenant_id=make.TENANT,
                mode="live",
            ),
            make.expiring(withdrawn, 5),  # after the member withdrew consent
        )
        # The copy goes out once the first has left the outbox (one row per event id there).
        await eventually(lambda: bus.fetch("SELECT 1 FROM outbox"), lambda left: not left)
        await bus.publish(earn)  # a copy of an event already applied
        rows = await _written(bus, 8)
        await eventually(lambda: _duplicates(running), lambda n: n == 1)
    by_member = {}
    for r in rows:
        by_member.setdefault(r["recipient"], []).append((r["kind"], r["status"], r["reason"]))
    assert sorted(by_member["capped@example.com"]) == [
        ("points_earned", "queued", None),
        ("points_earned", "suppressed", "daily_cap"),
        ("welcome", "queued", None),
    ]
    # Marketing needs consent; the welcome does not.
    assert sorted(by_member["out@example.com"]) == [
        ("points_expiring", "suppressed", "no_consent"),
        ("welcome", "queued", None),
    ]
    # The first nudge was decided with the consent the member had then, the second without it.
    assert sorted(by_member["withdrawn@example.com"]) == [
        ("points_expiring", "queued", None),
        ("points_expiring", "suppressed", "no_consent"),
        ("welcome", "queued", None),
    ]
    assert len(await bus.messages()) == 8
    assert len(await _transactions(bus, "messages")) == 1
    # Links only for welcomes that are sent.
    fetched = sorted(r["member_id"] for r in wallet.requests)
    assert fetched == sorted(encode_id("mbr", m.member_id) for m in (capped, opted_out, withdrawn))


async def test_a_failing_batch_is_rolled_back_and_applied_one_event_at_a_time(
    bus, make, sink, wallet, run_worker
):
    wallet.fail_next = 1  # one of the batch's link calls fails: the whole batch rolls back
    members = [make.member(email=f"m{i}@example.com") for i in range(3)]
    async with run_worker(**BATCHING):
        await bus.publish(*(e for m in members for e in (make.enrolled(m), make.earned(m, 10, 10))))
        rows = await _settled(bus, 6)
    assert (
        sorted((r["kind"], r["status"]) for r in rows)
        == [("points_earned", "sent")] * 3 + [("welcome", "sent")] * 3
    )
    assert len(await _transactions(bus, "inbox")) == 6, "the fallback applies one event per transaction"
    assert len(await bus.fetch("SELECT 1 FROM messages")) == 6, "nothing of the failed batch was kept"
    assert len(sink.messages) == 6


async def _duplicates(running) -> int:
    return sum(c.duplicates for c in running.worker.consumers)


def _fields(member: ledger.Member) -> dict[str, object]:
    return {f: getattr(member, f) for f in member.__struct_fields__}
