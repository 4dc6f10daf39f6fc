"""Tenant templates are untrusted code: a template whose work grows with the member's balance is
refused when saved (measured with a demanding sample, not only balance 120), a preview cannot spin
the API, and a template that still runs away when sending (saved before the rule, or a value the
sample did not foresee) is cut off off the event loop: that message is suppressed (template_budget),
the event's other messages go, and another tenant's mail is sent while it is being cut off."""

from __future__ import annotations

import time
import uuid

import pytest
from nujoomy_kit.ids import uuid7
from nujoomy_testing import eventually

PATH = "/internal/v1/templates/points_earned/en"

# Cheap at the sample balance of 120 (120 iterations); 100,000 iterations at a real 100,000.
GROWS_WITH_BALANCE = "Thanks{% for i in range(balance) %}{% endfor %}"
# Not the balance: a fixed 50 million iterations, a few seconds of a core without a budget.
SPINS = "{% for i in range(50000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}ok"


@pytest.fixture
def manager(tokens, make):
    return tokens.headers(tokens.staff(make.TENANT, role="manager"))


async def test_a_template_whose_work_grows_with_the_balance_is_refused_at_save(client, manager):
    body = {"subject": "Hi", "html": "<p>x</p>", "text": GROWS_WITH_BALANCE}
    response = await client.put(PATH, json=body, headers=manager)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "template_budget_exceeded"
    # Past the sandbox's range limit at the largest sample, still measured at a smaller one.
    doubled = {**body, "text": "Thanks{% for i in range(balance * 2) %}{% endfor %}"}
    response = await client.put(PATH, json=doubled, headers=manager)
    assert (response.status_code, response.json()["code"]) == (422, "template_budget_exceeded")
    assert (await client.get(PATH, headers=manager)).json()["source"] == "default"
    # An ordinary loop (over a short list) is still fine.
    fine = {"subject": "Hi", "text": "{% for s in ['a', 'b'] %}{{ s }}{{ loop.index }}{% endfor %}"}
    assert (await client.put(PATH, json=fine, headers=manager)).status_code == 200


async def test_a_preview_that_would_spin_is_cut_off_with_a_problem(client, manager):
    started = time.monotonic()
    body = {"subject": "Hi", "html": "<p>x</p>", "text": SPINS}
    response = await client.post(f"{PATH}/preview", json=body, headers=manager)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "template_budget_exceeded"
    assert time.monotonic() - started < 2


async def _store_override(bus, tenant_id: uuid.UUID, text: str) -> None:
    """A template stored as it is (saved before the budget existed): the API would refuse it now."""
    await bus.fetch(
        "INSERT INTO templates (tenant_id, mode, kind, locale, channel, subject, html, text) "
        "VALUES ($1, 'live', 'points_earned', 'en', 'email', 'Thanks', '<p>Thanks</p>', $2)",
        tenant_id,
        text,
    )


async def test_a_runaway_template_is_suppressed_and_the_events_other_messages_go(
    bus, make, sink, sms, wallet, run_worker
):
    fake, url = sms
    await _store_override(bus, make.TENANT, GROWS_WITH_BALANCE)
    m = make.member(phone="+966500000011", consent_sms=True)
    async with run_worker(sms_url=url, sms_secret="sms-test-secret"):
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 2)
        await bus.publish(make.earned(m, 100_000, 100_000))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 3)
        rows = await eventually(
            lambda: bus.fetch("SELECT * FROM messages WHERE kind = 'points_earned' ORDER BY channel"),
            lambda rows: len(rows) == 2,
        )
    email, sms_row = rows
    assert (email["channel"], email["status"], email["reason"]) == ("email", "suppressed", "template_budget")
    assert email["text"] == ""
    assert (sms_row["channel"], sms_row["status"]) == ("sms", "sent")
    assert [s.to for s in fake.messages] == ["+966500000011", "+966500000011"]
    assert len(sink.messages) == 1  # the welcome; no receipt from the runaway template


async def test_another_tenants_mail_goes_out_while_a_runaway_template_is_cut_off(
    bus, make, sink, wallet, run_worker
):
    """The render budget here is two seconds and no step limit, so the runaway is cut off by the
    clock; meanwhile the sender, on the same event loop, delivers another tenant's message."""
    await _store_override(bus, make.TENANT, SPINS)
    m = make.member()
    async with run_worker(template_step_budget=10**12, template_time_budget_s=2.0):
        await bus.publish(make.enrolled(m))
        await eventually(lambda: _sent(bus), lambda rows: len(rows) == 1)
        await bus.publish(make.earned(m, 10, 10))
        # The other tenant's message falls due while the runaway template is being rendered.
        await bus.fetch(
            "INSERT INTO messages (id, tenant_id, mode, member_id, event_id, kind, channel, locale, "
            "recipient, status, subject, text, send_after) VALUES ($1, $2, 'live', $3, $4, "
            "'points_earned', 'email', 'en', 'omar@example.com', 'queued', 'Other tenant', 'hello', "
            "now() + interval '0.5 seconds')",
            uuid7(),
            make.OTHER_TENANT,
            uuid7(),
            uuid7(),
        )
        await eventually(lambda: _has_mail(sink, "omar@example.com"), bool, timeout=30)
        assert await _receipt(bus, m.member_id) == [], "the other tenant waited for the runaway template"
        receipt = await eventually(lambda: _receipt(bus, m.member_id), bool, timeout=30)
    assert (receipt[0]["status"], receipt[0]["reason"]) == ("suppressed", "template_budget")


async def _has_mail(sink, to):
    return [mail for mail in sink.messages if mail.rcpt_to == [to]]


async def _receipt(bus, member_id):
    return await bus.fetch(
        "SELECT status, reason FROM messages WHERE member_id = $1 AND kind = 'points_earned'", member_id
    )


async def _sent(bus):
    return await bus.fetch("SELECT id FROM messages WHERE status = 'sent'")
