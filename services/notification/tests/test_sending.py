"""Delivery: transient SMTP failures retry with backoff, the last one leaves a failed message that can
be replayed, a redelivered event sends nothing new, SMS goes out signed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from nujoomy_contracts import ledger, new_envelope, tenant
from nujoomy_kit.ids import encode_id
from nujoomy_notification.delivery.sms import GenericJsonSms
from nujoomy_notification.delivery.transport import DeliveryError, Outgoing
from nujoomy_testing import eventually


async def _status(bus, status):
    return await bus.fetch("SELECT * FROM messages WHERE status = $1", status)


async def test_smtp_failing_twice_then_accepting_delivers_one_email(bus, make, sink, wallet, run_worker):
    sink.refuse_next(2)
    m = make.member()
    async with run_worker():
        await bus.publish(make.enrolled(m))
        rows = await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
    assert sink.refused == 2
    assert len(sink.messages) == 1
    assert rows[0]["attempts"] == 3
    assert len(await bus.messages()) == 1


async def test_smtp_failing_past_the_last_retry_fails_and_can_be_replayed(
    bus, make, sink, wallet, run_worker, client, tokens
):
    sink.refuse_next(100)
    m = make.member()
    manager = tokens.headers(tokens.staff(make.TENANT, role="manager"))
    async with run_worker(retry_delays_s="0.05,0.05"):
        await bus.publish(make.enrolled(m))
        rows = await eventually(lambda: _status(bus, "failed"), lambda rows: len(rows) == 1)
        assert (rows[0]["reason"], rows[0]["attempts"]) == ("retries_exhausted", 3)
        assert "451" in rows[0]["last_error"]
        failed = (await client.get("/internal/v1/messages/failed", headers=manager)).json()["data"]
        assert [f["id"] for f in failed] == [encode_id("msg", rows[0]["id"])]
        # staff below manager cannot replay
        staff = tokens.headers(tokens.staff(make.TENANT, role="staff"))
        assert (
            await client.post(f"/internal/v1/messages/{failed[0]['id']}/retry", headers=staff)
        ).status_code == 403
        sink.refuse_next(0)
        replay = await client.post(f"/internal/v1/messages/{failed[0]['id']}/retry", headers=manager)
        assert replay.status_code == 202, replay.text
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        again = await client.post(f"/internal/v1/messages/{failed[0]['id']}/retry", headers=manager)
        assert (again.status_code, again.json()["code"]) == (409, "message_not_replayable")
    assert len(sink.messages) == 1


async def test_a_redelivered_event_sends_nothing_new(bus, make, sink, wallet, run_worker):
    m = make.member()
    enrolment = make.enrolled(m)
    earn = make.earned(m, 10, 10)
    async with run_worker():
        await bus.publish(enrolment, earn)
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 2)
        await bus.publish(enrolment, earn)  # the same event ids, delivered again
        await eventually(lambda: bus.fetch("SELECT * FROM outbox"), lambda rows: rows == [])
        await eventually(lambda: bus.fetch("SELECT 1 FROM inbox"), lambda rows: len(rows) == 2)
    async with run_worker():  # a fresh worker finds nothing more to do
        pass
    assert len(sink.messages) == 2
    assert len(await bus.messages()) == 2
    assert len(wallet.requests) == 1


async def test_a_reward_crossed_by_an_earn_sends_one_nudge(bus, make, sink, wallet, run_worker):
    m = make.member()
    program = _program(make.TENANT, rewards=[("Free coffee", 100), ("Free cake", 150), ("Mug", 500)])
    async with run_worker():
        await bus.publish(program)
        await eventually(lambda: bus.fetch("SELECT 1 FROM tenants"), lambda rows: len(rows) == 1)
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        await bus.publish(make.earned(m, 90, 160))  # 70 -> 160 crosses 100 and 150, not 500
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 3)
    subjects = sorted(mail.subject for mail in sink.messages)
    assert "You can now get Free cake at Qahwa House" in subjects
    assert "You earned 90 stars at Qahwa House" in subjects


async def test_reversal_and_redemption_receipts(bus, make, sink, wallet, run_worker):
    m = make.member()
    reverse = new_envelope(
        ledger.TRANSACTION_POSTED,
        ledger.TransactionPosted(
            transaction_id=uuid.uuid4(),
            member_id=m.member_id,
            kind="reverse",
            points=-30,
            balance_after=70,
            reason="Refund",
            posted_at=datetime.now(UTC),
        ),
        tenant_id=make.TENANT,
        mode="live",
    )
    redeemed = new_envelope(
        ledger.REWARD_REDEEMED,
        ledger.RewardRedeemed(
            reservation_id=None,
            member_id=m.member_id,
            reward_id=uuid.uuid4(),
            reward_name="Free coffee",
            points=50,
            transaction_id=uuid.uuid4(),
        ),
        tenant_id=make.TENANT,
        mode="live",
    )
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        await bus.publish(reverse, redeemed)
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 3)
    reversal = next(mail for mail in sink.messages if mail.subject.startswith("A transaction at"))
    assert "30 points was reversed (Refund)" in reversal.part("text/html")
    assert "Your balance is now <strong>70</strong>" in reversal.part("text/html")
    assert any(mail.subject == "Enjoy your Free coffee" for mail in sink.messages)


async def test_sms_goes_to_the_provider_signed(bus, make, sms, run_worker):
    fake, url = sms
    m = make.member(email=None, phone="+966500000001", consent_sms=True)
    async with run_worker(sms_url=url, sms_secret="sms-test-secret"):
        await bus.publish(make.enrolled(m), make.earned(m, 10, 10))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 2)
    assert sorted(s.to for s in fake.messages) == ["+966500000001"] * 2
    assert {r["channel"] for r in await bus.messages()} == {"sms"}
    assert fake.rejected == 0


async def test_the_sms_fake_refuses_a_wrong_signature_and_the_sender_does_not_retry_it(sms):
    fake, url = sms
    provider = GenericJsonSms(url, "not-the-secret", "Nujoomy", httpx.AsyncClient())
    try:
        outgoing = Outgoing(message_id="msg_x", recipient="+966500000002", text="hi")
        with pytest.raises(DeliveryError) as refused:
            await provider.send(outgoing)
        assert not refused.value.transient
    finally:
        await provider.close()
    assert fake.messages == []
    assert fake.rejected == 1


def _program(tenant_id, rewards):
    facts = tenant.Tenant(
        tenant_id=tenant_id,
        slug="qahwa",
        name="Qahwa House",
        locale="en",
        timezone="Asia/Riyadh",
        currency="SAR",
        status="active",
    )
    program = tenant.Program(
        program_id=uuid.uuid4(),
        tenant_id=tenant_id,
        version=3,
        type="points",
        currency="SAR",
        earn_rule=tenant.EarnRule(points_per_unit=1),
        rewards=[tenant.Reward(reward_id=uuid.uuid4(), name=n, cost=c) for n, c in rewards],
        expiry=tenant.ExpiryPolicy(),
        wording=tenant.Wording(balance_label="Stars"),
        branding=tenant.Branding(
            background_color="#000000", foreground_color="#ffffff", label_color="#ffffff"
        ),
        tenant=facts,
    )
    return new_envelope(tenant.PROGRAM_UPDATED, program, tenant_id=tenant_id, mode="live")
