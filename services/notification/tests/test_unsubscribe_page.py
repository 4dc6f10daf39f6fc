"""Unsubscribing: opening the link (as a mail scanner does for every link) only shows a page — the
business's, in the member's language, for a phone — and its button confirms; a mail client's RFC 8058
one-click POST unsubscribes without a page; and every link a message carries to the platform opens
a page on the public URL, which is the gateway."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from nujoomy_contracts import tenant
from nujoomy_partner_gateway.app import build_app as build_gateway
from nujoomy_partner_gateway.settings import load as load_gateway
from nujoomy_testing import eventually
from nujoomy_testing.programs import program_updated, sample_program
from nujoomy_testing.servers import served

GATEWAY_MIGRATIONS = Path(__file__).resolve().parents[2] / "partner-gateway" / "migrations"
ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


def _branded(make):
    program = sample_program(make.TENANT)  # "Café"
    program.branding = tenant.Branding(
        background_color="#7B3F00", foreground_color="#FFF8E7", label_color="#E0C097", images={}
    )
    return program


async def _welcome(bus, make, sink, member, run_worker, **settings):
    async with run_worker(**settings):
        await bus.publish(program_updated(_branded(make), "live"))
        await eventually(lambda: bus.fetch("SELECT 1 FROM tenants"), lambda rows: len(rows) == 1)
        await bus.publish(make.enrolled(member))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) >= 1)
    return sink.messages[0]


def _path(url: str) -> str:
    return url[url.index("/unsubscribe/") :]


async def test_opening_the_link_shows_a_page_and_only_the_button_unsubscribes(
    bus, make, sink, wallet, client, run_worker
):
    mail = await _welcome(bus, make, sink, make.member(), run_worker)
    footer = re.search(r'href="([^"]*/unsubscribe/[^"]+)"', mail.part("text/html"))
    assert footer
    path = _path(footer.group(1))
    for _ in range(3):  # a scanner, a preview, the customer
        opened = await client.get(path)
        assert opened.status_code == 200
        assert opened.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in opened.headers["content-security-policy"]
        page = opened.text
        assert "Unsubscribe from Café?" in page
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
        assert '<form method="post">' in page
        assert 'data-testid="unsubscribe-confirm"' in page
        assert "background:#7B3F00" in page
    assert await _unsubscribes(bus) == [], "opening the link unsubscribed"
    confirmed = await client.post(path, data={"confirm": "1"})
    assert confirmed.status_code == 200
    assert "You are unsubscribed" in confirmed.text
    assert [r["channel"] for r in await _unsubscribes(bus)] == ["email"]
    # Opened again later: it says so, with no button.
    again = await client.get(path)
    assert "You are unsubscribed" in again.text
    assert "unsubscribe-confirm" not in again.text


async def test_rfc_8058_one_click_unsubscribes_without_a_page(bus, make, sink, wallet, client, run_worker):
    mail = await _welcome(bus, make, sink, make.member(), run_worker)
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail.headers["List-Unsubscribe"]
    assert link.startswith("<")
    assert link.endswith(">")
    response = await client.post(
        _path(link.strip("<>")), content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert [r["channel"] for r in await _unsubscribes(bus)] == ["email"]


async def test_the_page_speaks_the_members_language_then_the_businesss(
    bus, make, sink, wallet, client, run_worker
):
    arabic = make.member(email="noura@example.com", locale="ar-SA")
    mail = await _welcome(bus, make, sink, arabic, run_worker)
    page = (await client.get(_path(mail.headers["List-Unsubscribe"].strip("<>")))).text
    assert '<html lang="ar" dir="rtl">' in page
    assert "إلغاء الاشتراك في رسائل Café؟" in page
    assert "رسائل البريد الإلكتروني" in page


async def test_every_link_to_the_platform_opens_a_page_on_the_public_url(
    bus, make, sink, sms, wallet, run_worker, make_db, settings, amqp_url, redis_url, redis_prefix, topology
):
    """The links use the platform's public URL (the gateway, NUJOOMY_PUBLIC_URL), and the gateway
    serves what they point to: the page (through to this service) and the one-click POST."""
    fake, sms_url = sms
    from nujoomy_notification.app import build_app

    async with served(build_app(settings)) as notification_url:
        gateway_settings = load_gateway(
            {},
            database_url=await make_db("partner-gateway", GATEWAY_MIGRATIONS),
            amqp_url=amqp_url,
            redis_url=redis_url,
            redis_prefix=redis_prefix + "gw:",
            db_pool_size=2,
            events_exchange=topology.exchange,
            queue_prefix=topology.prefix,
            notification_url=notification_url,
        )
        async with served(build_gateway(gateway_settings)) as public_url:
            member = make.member(phone="+966500000013", consent_sms=True)
            mail = await _welcome(
                bus,
                make,
                sink,
                member,
                run_worker,
                public_url=public_url,
                sms_url=sms_url,
                sms_secret="sms-test-secret",
            )
            texts = await eventually(lambda: _texts(fake), lambda texts: len(texts) == 1)
            links = set(re.findall(r'href="([^"]+)"', mail.part("text/html")))
            for text in (mail.part("text/plain"), texts[0].body):
                links |= set(re.findall(r"https?://\S+", text))
            links.add(mail.headers["List-Unsubscribe"].strip("<>"))
            ours = {link for link in links if not link.startswith("https://")}
            assert ours, links
            assert all(link.startswith(f"{public_url}/unsubscribe/") for link in ours), ours
            async with httpx.AsyncClient() as browser:
                for link in sorted(ours):
                    opened = await browser.get(link)
                    assert opened.status_code == 200, (link, opened.text)
                    assert "Unsubscribe from Café?" in opened.text
                one_click = await browser.post(
                    mail.headers["List-Unsubscribe"].strip("<>"),
                    content=b"List-Unsubscribe=One-Click",
                    headers=ONE_CLICK,
                )
                assert one_click.status_code == 200
    assert [r["channel"] for r in await _unsubscribes(bus)] == ["email"]


async def _texts(fake):
    return list(fake.messages)


async def _sent(bus):
    return await bus.fetch("SELECT id FROM messages WHERE status = 'sent'")


async def _unsubscribes(bus):
    return await bus.fetch("SELECT channel FROM unsubscribes")
