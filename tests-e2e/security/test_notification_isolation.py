"""Cross-tenant and cross-mode probes on the notification service's message routes: a failed message
of business A's test mode (a row as the sender leaves it) is invisible to B's owner and to A's own
live mode: its member's messages are 404, the failed list does not show it, a retry is 404 and leaves
it failed. A's test mode sees and retries it, so the refusals are about the ids, not the routes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from nujoomy_kit.db import make_engine
from nujoomy_kit.ids import encode_id
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .bff_stack import infra_settings, migrations


@pytest.fixture
async def notification(
    make_db: MakeDb, amqp_url: str, redis_url: str, redis_prefix: str, topology: Topology, tokens: TestTokens
) -> AsyncIterator[tuple[str, str]]:
    from nujoomy_notification.app import build_app
    from nujoomy_notification.settings import load

    database = await make_db("notification", migrations("notification"))
    common = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    settings = load({}, **common, database_url=database)
    async with served(build_app(settings, verifier=tokens.verifier())) as url:
        yield url, database


async def _failed_message(database: str, tenant: uuid.UUID, member: uuid.UUID) -> uuid.UUID:
    from nujoomy_notification.db.tables import messages

    message = uuid.uuid4()
    row = {
        "id": message,
        "tenant_id": tenant,
        "mode": "test",
        "member_id": member,
        "event_id": uuid.uuid4(),
        "kind": "welcome",
        "channel": "email",
        "locale": "en",
        "recipient": "lina@example.com",
        "status": "failed",
        "reason": "smtp_refused",
        "attempts": 5,
    }
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(messages).values(**row))
    finally:
        await engine.dispose()
    return message


async def _status(database: str, message: uuid.UUID) -> str:
    from nujoomy_notification.db.tables import messages

    engine = make_engine(database, pool_size=1)
    try:
        async with engine.connect() as connection:
            query = sa.select(messages.c.status).where(messages.c.id == message)
            return str((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def test_another_tenants_or_modes_messages_are_not_found_and_stay_failed(
    notification: tuple[str, str], tokens: TestTokens
) -> None:
    url, database = notification
    tenant, other, member = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    message = await _failed_message(database, tenant, member)
    mid, msg = encode_id("mbr", member), encode_id("msg", message)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for tid, mode in ((other, "test"), (tenant, "live")):
            stranger = tokens.headers(tokens.staff(tid, role="owner"), mode=mode)  # type: ignore[arg-type]
            listed = await http.get(f"/internal/v1/members/{mid}/messages", headers=stranger)
            assert listed.status_code == 404, (mode, listed.text)
            assert listed.json()["code"] == "not_found"
            failed = await http.get("/internal/v1/messages/failed", headers=stranger)
            assert failed.status_code == 200, failed.text
            assert msg not in failed.text
            retry = await http.post(f"/internal/v1/messages/{msg}/retry", headers=stranger)
            assert retry.status_code == 404, (mode, retry.text)
            assert retry.json()["code"] == "not_found"
            assert await _status(database, message) == "failed"
        owner = tokens.headers(tokens.staff(tenant, role="owner"), mode="test")
        assert msg in (await http.get(f"/internal/v1/members/{mid}/messages", headers=owner)).text
        assert msg in (await http.get("/internal/v1/messages/failed", headers=owner)).text
        assert (await http.post(f"/internal/v1/messages/{msg}/retry", headers=owner)).status_code == 202
    assert await _status(database, message) == "queued"
