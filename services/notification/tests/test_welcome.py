"""An enrolment sends one welcome email with the wallet links — through the real relay, RabbitMQ,
consumer, PostgreSQL, sender and an SMTP server."""

from __future__ import annotations

from nujoomy_kit.ids import encode_id
from nujoomy_testing import eventually


async def test_enrolment_sends_one_welcome_email_with_wallet_links(bus, make, sink, wallet, run_worker, tokens):
    m = make.member()
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
    assert len(sink.messages) == 1
    mail = sink.messages[0]
    mbr = encode_id("mbr", m.member_id)
    assert mail.rcpt_to == ["layla@example.com"]
    assert mail.subject.startswith("Welcome")
    html, text = mail.part("text/html"), mail.part("text/plain")
    for body in (html, text):
        assert f"https://wallet.example/apple/passes/{mbr}" in body
        assert f"https://pay.google.com/gp/v/save/{mbr}" in body
    assert "/unsubscribe/" in mail.headers["List-Unsubscribe"]
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # wallet-pass was asked with an internal token for this tenant and mode
    assert [r["member_id"] for r in wallet.requests] == [mbr]
    principal = await tokens.verifier().verify(wallet.requests[0]["authorization"].removeprefix("Bearer "))
    assert (principal.kind, principal.tenant_id, principal.mode) == ("internal", make.TENANT, "live")
    row = (await bus.messages(m.member_id))[0]
    assert (row["kind"], row["channel"], row["status"], row["attempts"]) == ("welcome", "email", "sent", 1)
    assert row["provider_id"] == mail.headers["Message-ID"]


async def test_wallet_pass_down_retries_the_event_and_still_sends_one_welcome(bus, make, sink, wallet, run_worker):
    wallet.fail_next = 2
    m = make.member()
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
    assert len(wallet.requests) == 3
    assert len(sink.messages) == 1
    assert len(await bus.messages()) == 1


async def test_arabic_member_gets_a_right_to_left_welcome(bus, make, sink, run_worker):
    m = make.member(locale="ar-SA", email="noura@example.com")
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
    mail = sink.messages[0]
    assert 'dir="rtl"' in mail.part("text/html")
    assert 'lang="ar"' in mail.part("text/html")
    assert "أهلاً" in mail.subject


async def _sent(bus):
    return await bus.fetch("SELECT id FROM messages WHERE status = 'sent'")
