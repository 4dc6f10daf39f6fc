"""An enrolment sends one welcome email with the wallet links — through the real relay, RabbitMQ,
consumer, PostgreSQL, sender and an SMTP server."""

from __future__ import annotations

import re
import time

import jwt
from nujoomy_kit.ids import encode_id
from nujoomy_testing import eventually
from nujoomy_wallet_pass.domain.links import google_object_id, read_download_token


async def test_enrolment_sends_one_welcome_email_with_wallet_links(
    bus, make, sink, real_wallet_pass, run_worker
):
    m = make.member()
    async with run_worker(wallet_pass_url=real_wallet_pass.url):
        await bus.publish(make.tenant_created())
        await eventually(lambda: bus.fetch("SELECT 1 FROM tenants"), lambda rows: len(rows) == 1)
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
    assert len(sink.messages) == 1
    mail = sink.messages[0]
    assert mail.rcpt_to == ["layla@example.com"]
    assert mail.subject == "Welcome to Qahwa House"
    html, text = mail.part("text/html"), mail.part("text/plain")
    apple = re.search(r"https://wallet\.nujoomy\.test/apple/passes/([A-Za-z0-9_\-.]+)", text)
    google = re.search(r"https://pay\.google\.com/gp/v/save/([A-Za-z0-9_\-.]+)", text)
    assert apple, text
    assert google, text
    assert apple.group(0) in html
    assert google.group(0) in html
    # The links are wallet-pass's own: its download token opens this member's pass, in this tenant and mode.
    assert read_download_token(real_wallet_pass.download_secret, apple.group(1), int(time.time())) == (
        make.TENANT,
        "live",
        m.member_id,
    )
    save = jwt.decode(google.group(1), options={"verify_signature": False})
    issuer = save["payload"]["loyaltyObjects"][0]["id"].split(".", 1)[0]
    assert save["payload"]["loyaltyObjects"] == [
        {"id": google_object_id(issuer, make.TENANT, "live", m.member_id)}
    ]
    assert "/unsubscribe/" in mail.headers["List-Unsubscribe"]
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = (await bus.messages(m.member_id))[0]
    assert (row["kind"], row["channel"], row["status"], row["attempts"]) == ("welcome", "email", "sent", 1)
    assert row["provider_id"] == mail.headers["Message-ID"]


async def test_the_welcome_asks_wallet_pass_with_an_internal_token(bus, make, wallet, run_worker, tokens):
    m = make.member()
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
    assert [r["member_id"] for r in wallet.requests] == [encode_id("mbr", m.member_id)]
    principal = await tokens.verifier().verify(wallet.requests[0]["authorization"].removeprefix("Bearer "))
    assert (principal.kind, principal.tenant_id, principal.mode) == ("internal", make.TENANT, "live")


async def test_wallet_pass_down_retries_the_event_and_still_sends_one_welcome(
    bus, make, sink, wallet, run_worker
):
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
