"""Consent and preferences: no marketing goes to a member who did not opt in to news and offers (the
welcome and receipts do), nothing to a channel the member unsubscribed, the daily cap holds, quiet
hours make nudges wait, and test mode mail reaches only the dev sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nujoomy_contracts import ledger, new_envelope, tenant
from nujoomy_testing import eventually


async def _settled(bus, count):
    """Wait until `count` messages have an outcome (sent, suppressed, or waiting for the morning)."""
    return await eventually(
        lambda: bus.fetch(
            # queued for quiet hours counts as settled; queued to send now (or leased) does not
            "SELECT * FROM messages WHERE status <> 'queued' OR reason = 'quiet_hours'"
        ),
        lambda rows: len(rows) >= count,
    )


async def test_without_news_and_offers_the_member_still_gets_the_welcome_and_receipts_not_nudges(
    bus, make, sink, sms, wallet, run_worker
):
    """Not ticking "news and offers" withholds marketing (points about to expire), never the welcome
    with the card links or a receipt, on either channel."""
    fake, url = sms
    m = make.member(consent_email=False, phone="+966500000012", consent_sms=False)
    async with run_worker(sms_url=url, sms_secret="sms-test-secret"):
        await bus.publish(make.enrolled(m), make.earned(m, 10, 10), make.expiring(m, 10))
        rows = await _settled(bus, 6)
    assert sorted((r["kind"], r["channel"], r["status"], r["reason"]) for r in rows) == [
        ("points_earned", "email", "sent", None),
        ("points_earned", "sms", "sent", None),
        ("points_expiring", "email", "suppressed", "no_consent"),
        ("points_expiring", "sms", "suppressed", "no_consent"),
        ("welcome", "email", "sent", None),
        ("welcome", "sms", "sent", None),
    ]
    suppressed = [r for r in rows if r["status"] == "suppressed"]
    assert all(r["subject"] == "" and r["text"] == "" for r in suppressed), (
        "nothing is rendered for a suppressed row"
    )
    welcome = next(mail for mail in sink.messages if mail.subject.startswith("Welcome"))
    assert "https://wallet.example/apple/passes/" in welcome.part("text/plain")
    assert len(sink.messages) == 2
    assert [s.to for s in fake.messages] == ["+966500000012", "+966500000012"]


async def test_an_unsubscribed_channel_gets_no_receipts(bus, make, sink, client, run_worker):
    """The customer's own opt-out of transactional messages: the link in every message."""
    m = make.member(consent_email=False)
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        link = sink.messages[0].headers["List-Unsubscribe"].strip("<>")
        assert (await client.post(link[link.index("/unsubscribe/") :])).status_code == 200
        await bus.publish(make.earned(m, 10, 10))
        rows = await _settled(bus, 2)
    earned = next(r for r in rows if r["kind"] == "points_earned")
    assert (earned["status"], earned["reason"]) == ("suppressed", "unsubscribed")
    assert len(sink.messages) == 1


async def test_member_without_any_contact_is_recorded_as_no_contact(bus, make, sink, run_worker):
    m = make.member(email=None)
    async with run_worker():
        await bus.publish(make.enrolled(m))
        rows = await _settled(bus, 1)
    assert [(r["channel"], r["status"], r["reason"]) for r in rows] == [("email", "suppressed", "no_contact")]
    assert sink.messages == []


async def test_one_click_unsubscribe_stops_later_mail(bus, make, sink, client, run_worker):
    m = make.member()
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        link = sink.messages[0].headers["List-Unsubscribe"].strip("<>")
        path = link[link.index("/unsubscribe/") :]
        # RFC 8058: the mail client POSTs; the footer link GETs. Both work, repeatedly.
        assert (await client.post(path)).status_code == 200
        page = await client.get(path)
        assert page.status_code == 200
        assert "unsubscribed" in page.text
        await bus.publish(make.earned(m, 10, 10))
        rows = await _settled(bus, 2)
    earned = next(r for r in rows if r["kind"] == "points_earned")
    assert (earned["status"], earned["reason"]) == ("suppressed", "unsubscribed")
    assert len(sink.messages) == 1


async def test_a_forged_unsubscribe_token_is_refused(client):
    response = await client.get("/unsubscribe/AAAA.BBBB")
    assert response.status_code == 404
    assert response.json()["code"] == "invalid_token"


async def test_daily_cap_suppresses_beyond_the_cap(bus, make, sink, run_worker):
    m = make.member()
    async with run_worker(daily_cap=2):
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        await bus.publish(*(make.earned(m, 5, 5 * (i + 1)) for i in range(3)))
        rows = await _settled(bus, 4)
    statuses = sorted((r["status"], r["reason"]) for r in rows)
    assert statuses == [
        ("sent", None),
        ("sent", None),
        ("suppressed", "daily_cap"),
        ("suppressed", "daily_cap"),
    ]
    assert len(sink.messages) == 2


async def test_quiet_hours_defer_nudges_but_not_receipts(bus, make, sink, run_worker):
    hour = datetime.now(UTC).hour
    m = make.member()
    expiring = new_envelope(
        ledger.POINTS_EXPIRING,
        ledger.PointsExpiring(
            member_id=m.member_id, points=40, expires_at=datetime.now(UTC) + timedelta(days=7)
        ),
        tenant_id=make.TENANT,
        mode="live",
    )
    # Quiet from this hour for two hours, in the tenant's (UTC) time zone.
    async with run_worker(quiet_start=hour, quiet_end=(hour + 2) % 24):
        await bus.publish(make.tenant_created(timezone="UTC"))
        await eventually(lambda: bus.fetch("SELECT 1 FROM tenants"), lambda rows: len(rows) == 1)
        await bus.publish(make.enrolled(m), expiring)
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        rows = await _settled(bus, 2)
    nudge = next(r for r in rows if r["kind"] == "points_expiring")
    assert (nudge["status"], nudge["reason"]) == ("queued", "quiet_hours")
    wake = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    assert nudge["send_after"] == wake
    assert [mail.subject for mail in sink.messages] == ["Welcome to Qahwa House"]


async def test_test_mode_mail_goes_only_to_the_dev_sink(bus, make, sink, sandbox, run_worker):
    m = make.member(email="real.person@example.com")
    async with run_worker():
        await bus.publish(make.enrolled(m, mode="test"))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
    assert sink.messages == []
    assert [mail.rcpt_to for mail in sandbox.messages] == [["real.person@example.com"]]


async def test_test_mode_without_a_dev_sink_sends_nothing(bus, make, sink, run_worker):
    m = make.member()
    async with run_worker(sandbox_smtp_host="", sandbox_sms_url=""):
        await bus.publish(make.enrolled(m, mode="test"))
        rows = await _settled(bus, 1)
    assert [(r["status"], r["reason"]) for r in rows] == [("suppressed", "test_mode")]
    assert sink.messages == []


async def test_an_earn_that_overtakes_its_enrolment_still_gets_its_receipt(
    bus, make, sink, wallet, run_worker
):
    m = make.member(consent_email=True)
    async with run_worker() as running:
        await bus.publish(make.earned(m, 10, 10))
        await eventually(running.consumer_failures, lambda n: n >= 1)  # the earn came first and waits
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 2)
    assert sorted(mail.subject.split()[1] for mail in sink.messages) == ["earned", "to"]


async def test_an_old_event_for_an_unknown_member_is_recorded_as_no_contact(bus, make, sink, run_worker):
    m = make.member()
    old = make.earned(m, 10, 10)
    old.occurred_at = datetime.now(UTC) - timedelta(minutes=5)
    async with run_worker():
        await bus.publish(old)
        rows = await _settled(bus, 1)
    assert [(r["status"], r["reason"]) for r in rows] == [("suppressed", "no_contact")]


async def _status(bus, status):
    return await bus.fetch("SELECT id FROM messages WHERE status = $1", status)


async def test_erasure_forgets_the_contact_and_scrubs_the_log(bus, make, sink, wallet, run_worker):
    m = make.member()
    erased = new_envelope(
        ledger.MEMBER_ERASED, ledger.MemberErased(member_id=m.member_id), tenant_id=make.TENANT, mode="live"
    )
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _status(bus, "sent"), lambda rows: len(rows) == 1)
        await bus.publish(erased)
        await eventually(lambda: bus.fetch("SELECT 1 FROM contacts"), lambda rows: rows == [])
    rows = await bus.messages(m.member_id)
    assert [(r["status"], r["recipient"], r["subject"], r["html"], r["text"]) for r in rows] == [
        ("sent", "", "", "", "")
    ]


async def test_an_older_program_version_arriving_late_changes_nothing(bus, make, run_worker):
    def program(version: int, label: str):
        facts = make.tenant_facts()
        return new_envelope(
            tenant.PROGRAM_UPDATED,
            tenant.Program(
                program_id=make.TENANT,
                tenant_id=make.TENANT,
                version=version,
                type="points",
                currency="SAR",
                earn_rule=tenant.EarnRule(points_per_unit=1),
                rewards=[],
                expiry=tenant.ExpiryPolicy(),
                wording=tenant.Wording(balance_label=label),
                branding=tenant.Branding(
                    background_color="#000", foreground_color="#fff", label_color="#fff"
                ),
                tenant=facts,
            ),
            tenant_id=make.TENANT,
            mode="live",
        )

    async with run_worker():
        await bus.publish(program(3, "Stars"))
        await eventually(lambda: bus.fetch("SELECT 1 FROM inbox"), lambda rows: len(rows) == 1)
        await bus.publish(program(2, "Beans"))
        await eventually(lambda: bus.fetch("SELECT 1 FROM inbox"), lambda rows: len(rows) == 2)
    rows = await bus.fetch("SELECT balance_label, program_version FROM tenants")
    assert [(r["balance_label"], r["program_version"]) for r in rows] == [("Stars", 3)]
