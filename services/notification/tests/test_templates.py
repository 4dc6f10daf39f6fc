"""Templates: a tenant override is refused unless it renders safely with sample data, previews work,
the override is what customers then get, and a tenant only ever sees its own."""

from __future__ import annotations

import pytest
from nujoomy_testing import eventually

PATH = "/internal/v1/templates/points_earned/en"

MALICIOUS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ points.__class__ }}",
    "{{ member_name['__class__'] }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ lipsum.__globals__ }}",
    "{{ (1).__class__|attr('__mro__') }}",
    "{{ member_name|attr('__class__') }}",
    "{{ member_name|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ member_name|attr('_' ~ '_class__') }}",
    "{{ range(10**9)|list }}",
    "{{ 'a' * 1000000000 }}",
    "{{ 9 ** 64 ** 64 ** 64 ** 64 }}",
    "{{ 1 / 0 }}",
]


@pytest.fixture
def manager(tokens, make):
    return tokens.headers(tokens.staff(make.TENANT, role="manager"))


async def test_a_malicious_template_is_refused(client, manager):
    for payload in MALICIOUS:
        for field in ("subject", "html", "text"):
            body = {"subject": "Hi", "html": "<p>x</p>", "text": "ok", field: payload}
            response = await client.put(PATH, json=body, headers=manager)
            assert response.status_code == 422, (payload, response.text)
            assert response.json()["code"] in {"template_unsafe", "template_invalid"}, payload
            preview = await client.post(f"{PATH}/preview", json=body, headers=manager)
            assert preview.status_code == 422, (payload, preview.text)
    stored = (await client.get(PATH, headers=manager)).json()
    assert stored["source"] == "default"


async def test_a_template_that_does_not_render_with_sample_data_is_refused_at_save(client, manager):
    for body, field in [
        ({"subject": "Hi", "text": "{{ reward_name }}"}, "text"),  # not a variable of a receipt
        ({"subject": "Hi", "text": "{% if %}"}, "text"),  # does not parse
        ({"subject": "", "text": "ok"}, "subject"),  # an email needs a subject
    ]:
        response = await client.put(PATH, json=body, headers=manager)
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["field"]) == ("template_invalid", field)


async def test_only_a_manager_may_override(client, tokens, make):
    staff = tokens.headers(tokens.staff(make.TENANT, role="staff"))
    response = await client.put(PATH, json={"subject": "Hi", "text": "ok"}, headers=staff)
    assert response.status_code == 403


async def test_unknown_kind_or_locale_is_not_found(client, manager):
    for path in ("/internal/v1/templates/birthday/en", "/internal/v1/templates/points_earned/fr"):
        response = await client.get(path, headers=manager)
        assert (response.status_code, response.json()["code"]) == (404, "unknown_template")


async def test_preview_renders_with_sample_data_and_escapes_html(client, manager):
    draft = {
        "subject": "Hello {{ member_name }}",
        "html": "<p>{{ reference }}</p>",
        "text": "{{ points }} pts",
    }
    response = await client.post(f"{PATH}/preview", json=draft, headers=manager)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["subject"] == "Hello Layla"
    assert out["text"] == "15 pts"
    assert "<p>Order 1042</p>" in out["html"]
    assert 'dir="ltr"' in out["html"]
    arabic = await client.post("/internal/v1/templates/points_earned/ar/preview", headers=manager)
    assert 'dir="rtl"' in arabic.json()["html"]


async def test_a_saved_override_is_what_members_receive(bus, make, sink, wallet, client, manager, run_worker):
    override = {
        "subject": "+{{ points }} for {{ member_name }}",
        "html": "<p>Thanks {{ member_name }}! Balance {{ balance }}</p>",
        "text": "Thanks {{ member_name }}",
    }
    saved = await client.put(PATH, json=override, headers=manager)
    assert saved.status_code == 200
    assert saved.json()["source"] == "tenant"
    m = make.member(name="<script>alert(1)</script>")
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(
            lambda: bus.fetch("SELECT 1 FROM messages WHERE status='sent'"), lambda r: len(r) == 1
        )
        await bus.publish(make.earned(m, 12, 12))
        await eventually(
            lambda: bus.fetch("SELECT 1 FROM messages WHERE status='sent'"), lambda r: len(r) == 2
        )
    receipt = next(mail for mail in sink.messages if mail.subject.startswith("+12"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in receipt.part("text/html")
    assert "<script>" not in receipt.part("text/html")


async def test_templates_and_history_are_per_tenant_and_mode(
    bus, make, sink, wallet, client, tokens, run_worker
):
    mine = tokens.headers(tokens.staff(make.TENANT, role="manager"))
    theirs = tokens.headers(tokens.staff(make.OTHER_TENANT, role="manager"))
    await client.put(PATH, json={"subject": "Mine", "text": "mine"}, headers=mine)
    assert (await client.get(PATH, headers=theirs)).json()["source"] == "default"
    assert (await client.get(PATH, headers={**mine, "Nujoomy-Mode": "test"})).json()["source"] == "default"
    m = make.member()
    async with run_worker():
        await bus.publish(make.enrolled(m))
        await eventually(
            lambda: bus.fetch("SELECT 1 FROM messages WHERE status='sent'"), lambda r: len(r) == 1
        )
    from nujoomy_kit.ids import encode_id

    path = f"/internal/v1/members/{encode_id('mbr', m.member_id)}/messages"
    history = await client.get(path, headers=mine)
    assert history.status_code == 200
    assert [(h["kind"], h["status"]) for h in history.json()["data"]] == [("welcome", "sent")]
    for other in (theirs, {**mine, "Nujoomy-Mode": "test"}):
        response = await client.get(path, headers=other)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    internal = tokens.headers(tokens.internal(make.TENANT, "live"))
    assert len((await client.get(path, headers=internal)).json()["data"]) == 1
