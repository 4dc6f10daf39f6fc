"""An enrolment sends one welcome email with the wallet links — through the real relay, RabbitMQ,
consumer, PostgreSQL, sender and an SMTP server."""

from __future__ import annotations

import re
import time

import jwt
from nujoomy_contracts import tenant
from nujoomy_kit.ids import encode_id
from nujoomy_notification.delivery.email import from_header
from nujoomy_notification.domain.branding import brand_from
from nujoomy_testing import eventually
from nujoomy_testing.programs import program_updated, sample_program
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
    principal = await tokens.verifier("wallet-pass").verify(
        wallet.requests[0]["authorization"].removeprefix("Bearer ")
    )
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


async def test_an_sms_welcome_carries_the_card_page_and_the_email_both_wallet_links(
    bus, make, sink, sms, real_wallet_pass, run_worker
):
    """Google's save link (a ~1 kB JWT) does not fit an SMS: the SMS carries wallet-pass's short card
    page instead, and the member who also gave an e-mail address still gets the full e-mail."""
    fake, url = sms
    m = make.member(phone="+966500000009", consent_sms=True)
    async with run_worker(wallet_pass_url=real_wallet_pass.url, sms_url=url, sms_secret="sms-test-secret"):
        await bus.publish(make.tenant_created())
        await eventually(lambda: bus.fetch("SELECT 1 FROM tenants"), lambda rows: len(rows) == 1)
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 2)
    assert [s.to for s in fake.messages] == ["+966500000009"]
    text = fake.messages[0].body
    assert len(text) <= 480
    card = re.search(r"https://wallet\.nujoomy\.test/cards/([A-Za-z0-9_\-.]+)", text)
    assert card, text
    assert "pay.google.com" not in text
    assert read_download_token(real_wallet_pass.download_secret, card.group(1), int(time.time())) == (
        make.TENANT,
        "live",
        m.member_id,
    )
    assert "https://pay.google.com/gp/v/save/" in sink.messages[0].part("text/plain")


async def test_a_message_that_cannot_be_rendered_is_suppressed_and_the_others_still_go(
    bus, make, sink, sms, wallet, run_worker
):
    """An SMS over its length with this member's values: kept as suppressed (template_invalid), not
    a retried event that ends in the dead-letter queue with the member's e-mail behind it."""
    fake, url = sms
    wallet.apple_path_padding = 600
    m = make.member(phone="+966500000010", consent_sms=True)
    async with run_worker(sms_url=url, sms_secret="sms-test-secret"):
        await bus.publish(make.enrolled(m), make.earned(m, 10, 10))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 3)  # welcome e-mail, 2 receipts
    rows = {(r["kind"], r["channel"]): r for r in await bus.messages()}
    assert (rows[("welcome", "sms")]["status"], rows[("welcome", "sms")]["reason"]) == (
        "suppressed",
        "template_invalid",
    )
    assert rows[("welcome", "email")]["status"] == "sent"
    assert rows[("points_earned", "sms")]["status"] == "sent"
    assert len(fake.messages) == 1
    assert len(sink.messages) == 2


async def _sent(bus):
    return await bus.fetch("SELECT id FROM messages WHERE status = 'sent'")


async def test_a_card_asked_for_again_sends_the_welcome_again_to_the_members_own_address(
    bus, make, sink, real_wallet_pass, run_worker
):
    from nujoomy_contracts import ledger, new_envelope

    m = make.member()
    resent = new_envelope(ledger.CARD_RESENT, ledger.CardResent(member=m), tenant_id=make.TENANT, mode="live")
    async with run_worker(wallet_pass_url=real_wallet_pass.url):
        await bus.publish(make.tenant_created())
        await eventually(lambda: bus.fetch("SELECT 1 FROM tenants"), lambda rows: len(rows) == 1)
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
        await bus.publish(resent)
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 2)
    assert [mail.rcpt_to for mail in sink.messages] == [["layla@example.com"], ["layla@example.com"]]
    assert sink.messages[1].subject == "Welcome to Qahwa House"
    assert "/apple/passes/" in sink.messages[1].part("text/plain")  # the card, again


LOGO = "ab" * 32


async def test_the_welcome_comes_from_the_business_with_its_logo_and_colours(
    bus, make, sink, wallet, run_worker
):
    """Not an unbranded mail from "Nujoomy": the business's name as the From display name (on the
    platform's address), its logo as an absolute URL the public gateway serves, its colours."""
    program = sample_program(make.TENANT)  # the business is "Café"
    program.branding = tenant.Branding(
        background_color="#7B3F00",
        foreground_color="#FFF8E7",
        label_color="#E0C097",
        images={"logo": f"/assets/{LOGO}.png"},
    )
    m = make.member()
    async with run_worker(public_url="https://loyalty.example.com"):
        await bus.publish(program_updated(program, "live"))
        await eventually(lambda: bus.fetch("SELECT 1 FROM tenants"), lambda rows: len(rows) == 1)
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
    mail = sink.messages[0]
    assert mail.headers["From"] == "Café <no-reply@nujoomy.dev>"
    assert mail.mail_from == "no-reply@nujoomy.dev"
    html = mail.part("text/html")
    assert f'<img src="https://loyalty.example.com/join-assets/{LOGO}.png" alt="Café"' in html
    assert "background:#7B3F00;color:#FFF8E7" in html
    row = (await bus.messages(m.member_id))[0]
    assert row["from_name"] == "Café"


def test_the_business_name_cannot_break_the_from_header_and_arabic_is_encoded():
    platform = "Nujoomy <no-reply@nujoomy.dev>"
    injected = from_header(platform, "Qahwa\r\nBcc: x@example.com")
    assert "\n" not in injected
    assert "\r" not in injected
    assert injected.endswith(" <no-reply@nujoomy.dev>")
    encoded = from_header(platform, "قهوة")
    assert encoded.isascii()
    assert encoded.endswith(" <no-reply@nujoomy.dev>")
    assert from_header(platform, "  ") == platform


def test_only_hex_colours_and_asset_names_reach_the_html():
    b = brand_from("red;background:url(x)", "#ffffff", None, {"logo": "/assets/../../x.svg"})
    assert (b.background, b.foreground, b.logo) == ("#1f2937", "#ffffff", "")
