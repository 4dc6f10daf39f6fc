"""The local fakes are as strict as they need to be to prove something: the SMTP sink stores real
MIME and can refuse on demand; the views list what arrived."""

from __future__ import annotations

import aiosmtplib
import pytest
from litestar.testing import AsyncTestClient
from nujoomy_notification.delivery.email import build_email
from nujoomy_notification.delivery.transport import Outgoing
from nujoomy_notification.fakes.smtp_sink import SmtpSink, sink_app


async def test_the_sink_stores_refuses_on_demand_and_shows_mail(sink: SmtpSink):
    email, _ = build_email(
        Outgoing(message_id="msg_1", recipient="a@example.com", subject="<Hi>", html="<p>x</p>", text="x"),
        "Nujoomy <no-reply@nujoomy.dev>",
    )
    async with AsyncTestClient(app=sink_app(sink)) as http:
        assert (await http.post("/refuse", json={"count": 1})).status_code == 204
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await aiosmtplib.send(email, hostname="127.0.0.1", port=sink.port)
        assert refused.value.code == 451
        await aiosmtplib.send(email, hostname="127.0.0.1", port=sink.port)
        assert (await http.get("/stats")).json() == {"received": 1, "refused": 1}
        listed = (await http.get("/messages")).json()
        assert [(m["subject"], m["rcpt_to"]) for m in listed] == [("<Hi>", ["a@example.com"])]
        page = await http.get("/")
        assert page.status_code == 200
        assert "&lt;Hi&gt;" in page.text
        await http.delete("/messages")
        assert (await http.get("/messages")).json() == []
