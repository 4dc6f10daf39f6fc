"""Webhooks: platform events reach every subscribed endpoint of their plane, signed per Standard
Webhooks v1, retried while the partner is down, once per webhook-id; 410 and long failure disable."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import msgspec
import pytest
import standardwebhooks
from litestar.testing import AsyncTestClient
from nujoomy_contracts import Envelope, new_envelope
from nujoomy_contracts.ledger import (
    MEMBER_ENROLLED,
    TRANSACTION_POSTED,
    Member,
    MemberEnrolled,
    TransactionPosted,
)
from nujoomy_contracts.partner import WEBHOOK_ENDPOINT_DISABLED
from nujoomy_messaging import Topology
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing import TcpProxy, eventually
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .conftest import Client, MakeKey, bearer
from .support import Receiver, free_port, publish, running_worker

FAST = (0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2)


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, webhook_schedule=FAST, webhook_poll_seconds=0.05)


def enrolled(tenant: uuid.UUID, mode: str = "test") -> Envelope[Any]:
    member = Member(
        member_id=uuid.uuid4(),
        program_id=None,
        name="Lina",
        email="l@example.com",
        phone=None,
        external_id="c-1",
    )
    return new_envelope(
        MEMBER_ENROLLED, MemberEnrolled(member=member, card_token="SECRET-QR"), tenant_id=tenant, mode=mode
    )  # type: ignore[arg-type]


def earned(tenant: uuid.UUID, points: int = 10, mode: str = "test") -> Envelope[Any]:
    data = TransactionPosted(
        transaction_id=uuid.uuid4(),
        member_id=uuid.uuid4(),
        kind="earn",
        points=points,
        balance_after=points,
        reference="order-1",
        amount="12.50",
        currency="EUR",
        posted_at=datetime.now(UTC),
    )
    return new_envelope(TRANSACTION_POSTED, data, tenant_id=tenant, mode=mode)  # type: ignore[arg-type]


async def create_endpoint(
    client: Client, key: str, url: str, types: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhook_endpoints", json={"url": url, "event_types": types or ["*"]}, headers=bearer(key)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def hand_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part == f"v1,{expected}" for part in headers["webhook-signature"].split(" "))


async def test_events_arrive_signed_and_verifiable_and_are_listed_for_backfill(
    client: Client, fast: Settings, make_key: MakeKey, tenant: uuid.UUID, amqp_url: str, topology: Topology
) -> None:
    receiver = Receiver()
    key = await make_key("test")
    async with served(receiver) as url, running_worker(fast):
        everything = await create_endpoint(client, key, f"{url}/all")
        only_earn = await create_endpoint(client, key, f"{url}/earn-only", ["points.earned"])
        others = [enrolled(uuid.uuid4()), earned(tenant, mode="live")]  # another tenant; the live plane
        await publish(amqp_url, topology, [enrolled(tenant), earned(tenant), *others])
        await eventually(receiver.count, lambda n: n >= 3)
    assert len(receiver.arrived) == 3
    secrets = {"/all": everything["secret"], "/earn-only": only_earn["secret"]}
    seen = Counter()
    for arrival in receiver.arrived:
        secret = secrets[arrival.path]
        payload = standardwebhooks.Webhook(secret).verify(arrival.body, arrival.headers)
        assert hand_verify(secret, arrival.headers, arrival.body)
        assert arrival.headers["webhook-id"] == payload["id"]
        assert payload["id"].startswith("evt_")
        assert b"SECRET-QR" not in arrival.body
        assert b"card_token" not in arrival.body
        seen[(arrival.path, payload["type"])] += 1
    assert seen == {
        ("/all", "member.enrolled"): 1,
        ("/all", "points.earned"): 1,
        ("/earn-only", "points.earned"): 1,
    }
    first = receiver.arrived[0]
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secrets[first.path]).verify(first.body + b" ", first.headers)
    listed = (await client.get("/v1/events", headers=bearer(key))).json()
    assert sorted(e["type"] for e in listed["data"]) == ["member.enrolled", "points.earned"]
    one = await client.get(f"/v1/events/{listed['data'][0]['id']}", headers=bearer(key))
    assert one.json() == listed["data"][0]
    earn = next(e for e in listed["data"] if e["type"] == "points.earned")["data"]["transaction"]
    assert earn["points"] == 10
    assert earn["amount"] == {"value": "12.50", "currency": "EUR"}
    assert earn["id"].startswith("txn_")


async def test_a_partner_down_for_a_while_gets_every_event_once_per_webhook_id(
    client: Client,
    fast: Settings,
    make_key: MakeKey,
    tenant: uuid.UUID,
    amqp_url: str,
    topology: Topology,
    db_url: str,
) -> None:
    key = await make_key("test")
    port = free_port()  # nothing listens here yet: the partner is down (connection refused)
    await create_endpoint(client, key, f"http://127.0.0.1:{port}/hook")
    events = [earned(tenant, points=n + 1) for n in range(20)]
    receiver = Receiver()
    async with running_worker(fast):
        await publish(amqp_url, topology, events)

        async def failed_twice() -> int:
            return await _count(
                db_url, "SELECT count(*) FROM webhook_deliveries WHERE attempts >= 2 AND status = 'pending'"
            )

        await eventually(failed_twice, lambda n: n == 20)
        receiver.status = 503  # up, but not healthy yet
        async with served(receiver, port=port):
            await eventually(lambda: _len(receiver.requests), lambda n: n >= 20)
            receiver.status = 200
            await eventually(receiver.count, lambda n: n >= 20)
            # The receiver answers before the dispatcher records the outcome: wait for the record.
            sql = "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"
            await eventually(lambda: _count(db_url, sql), lambda n: n == 20)
    ids = Counter(a.headers["webhook-id"] for a in receiver.arrived)
    assert len(ids) == 20
    assert set(ids.values()) == {1}
    points = sorted(msgspec.json.decode(a.body)["data"]["transaction"]["points"] for a in receiver.arrived)
    assert points == list(range(1, 21))
    errors = await _count(
        db_url,
        "SELECT count(*) FROM webhook_attempts WHERE status_code IS NULL AND error LIKE 'ConnectError%'",
    )
    assert errors >= 40


class HeldReceiver(Receiver):
    """Takes the request, then holds its answer until `release` is set (a slow partner)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.held = 0

    async def held_count(self) -> int:
        return self.held

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.held += 1
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        await super().__call__(scope, receive, send)


async def test_an_answer_is_recorded_while_a_slower_endpoint_of_the_same_batch_is_still_answering(
    client: Client,
    fast: Settings,
    make_key: MakeKey,
    tenant: uuid.UUID,
    amqp_url: str,
    topology: Topology,
    db_url: str,
) -> None:
    """A worker killed now must not re-send what the quick partner already accepted: its outcome is
    committed without waiting for the slow partner of the same batch."""
    key = await make_key("test")
    quick, slow = Receiver(), HeldReceiver()
    one_lane = msgspec.structs.replace(fast, webhook_lanes=1, webhook_timeout=30.0)
    try:
        async with served(quick) as quick_url, served(slow) as slow_url, running_worker(one_lane):
            await create_endpoint(client, key, f"{quick_url}/quick")
            await create_endpoint(client, key, f"{slow_url}/slow")
            await publish(amqp_url, topology, [earned(tenant)])
            await eventually(slow.held_count, lambda n: n == 1)
            sql = (
                "SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
                " WHERE d.status = 'succeeded' AND e.url LIKE '%/quick'"
            )
            await eventually(lambda: _count(db_url, sql), lambda n: n == 1)
            assert slow.requests == []  # still holding its answer while the quick one was recorded
            slow.release.set()
            await eventually(slow.count, lambda n: n == 1)
    finally:
        slow.release.set()


async def test_an_answer_that_arrives_while_the_database_is_away_is_recorded_once_it_is_back(
    client: Client,
    fast: Settings,
    make_key: MakeKey,
    tenant: uuid.UUID,
    amqp_url: str,
    topology: Topology,
    db_url: str,
) -> None:
    """A database restart between the partner's answer and its record must not re-send the
    delivery when its lease ends: the dispatcher holds the outcome and records it once it can."""
    key = await make_key("test")
    partner = HeldReceiver()
    target = urlsplit(db_url)
    proxy = await TcpProxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    proxied = msgspec.structs.replace(
        fast, database_url=proxy.url_for(db_url), webhook_lanes=1, webhook_lease_seconds=60.0
    )
    sql = "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded' AND attempts = 1"
    try:
        async with served(partner) as url, running_worker(proxied):
            await create_endpoint(client, key, f"{url}/hook")
            await publish(amqp_url, topology, [earned(tenant)])
            await eventually(partner.held_count, lambda n: n == 1)
            proxy.drop()  # the dispatcher's connections die and new ones are refused
            partner.release.set()
            await eventually(partner.count, lambda n: n == 1)
            await asyncio.sleep(1.0)  # its record is refused meanwhile
            assert await _count(db_url, sql) == 0
            proxy.restore()
            # Recorded within seconds, not re-sent when the 60 s lease ends.
            await eventually(lambda: _count(db_url, sql), lambda n: n == 1, timeout=15)
            assert len(partner.requests) == 1
            attempts = await _count(db_url, "SELECT count(*) FROM webhook_attempts")
            assert attempts == 1
    finally:
        partner.release.set()
        await proxy.close()


async def test_every_attempt_is_logged_and_a_delivery_can_be_replayed(
    client: Client, fast: Settings, make_key: MakeKey, tenant: uuid.UUID, amqp_url: str, topology: Topology
) -> None:
    key = await make_key("test")
    receiver = Receiver(status=500)
    async with served(receiver) as url, running_worker(fast):
        endpoint = await create_endpoint(client, key, f"{url}/hook")
        await publish(amqp_url, topology, [earned(tenant)])
        await eventually(lambda: _len(receiver.requests), lambda n: n >= 2)
        receiver.status = 200
        await eventually(receiver.count, lambda n: n == 1)
        base = f"/v1/webhook_endpoints/{endpoint['id']}/deliveries"

        async def deliveries() -> list[dict[str, Any]]:
            return list((await client.get(base, headers=bearer(key))).json()["data"])

        listed = await eventually(deliveries, lambda d: len(d) == 1 and d[0]["status"] == "succeeded")
        detail = (await client.get(f"{base}/{listed[0]['id']}", headers=bearer(key))).json()
        log = detail["attempt_log"]
        assert [a["status_code"] for a in log][-1] == 200
        assert log[0]["status_code"] == 500
        assert log[0]["response_excerpt"] == "answered 500"
        assert all(a["latency_ms"] > 0 for a in log)
        replay = await client.post(f"{base}/{listed[0]['id']}/replay", headers=bearer(key))
        assert replay.status_code == 202
        await eventually(receiver.count, lambda n: n == 2)
        since = await client.post(
            f"/v1/webhook_endpoints/{endpoint['id']}/replay",
            json={"since": "2000-01-01T00:00:00Z"},
            headers=bearer(key),
        )
        assert since.json() == {"scheduled": 1}
        await eventually(receiver.count, lambda n: n == 3)
    # A replay is the same message again: the partner's dedupe on webhook-id holds.
    assert len({a.headers["webhook-id"] for a in receiver.arrived}) == 1


async def test_410_disables_the_endpoint_and_tells_the_platform(
    client: Client, fast: Settings, make_key: MakeKey, tenant: uuid.UUID, amqp_url: str, topology: Topology
) -> None:
    told = await _listen(amqp_url, topology, WEBHOOK_ENDPOINT_DISABLED)
    key = await make_key("test")
    receiver = Receiver(status=410)
    async with served(receiver) as url, running_worker(fast):
        endpoint = await create_endpoint(client, key, f"{url}/gone")

        async def state() -> dict[str, Any]:
            return dict(
                (await client.get(f"/v1/webhook_endpoints/{endpoint['id']}", headers=bearer(key))).json()
            )

        await publish(amqp_url, topology, [earned(tenant)])
        disabled = await eventually(state, lambda e: not e["enabled"])
        assert "410" in disabled["disabled_reason"]
        message = await eventually(told, lambda m: m is not None)
    assert len(receiver.requests) == 1  # no retry after a 410
    body = msgspec.json.decode(message)
    assert body["tenant_id"] == str(tenant)
    assert body["mode"] == "test"


async def test_an_endpoint_failing_for_too_long_is_disabled(
    client: Client, fast: Settings, make_key: MakeKey, tenant: uuid.UUID, amqp_url: str, topology: Topology
) -> None:
    key = await make_key("test")
    receiver = Receiver(status=500)
    soon = msgspec.structs.replace(fast, webhook_disable_after_seconds=0.5)  # five days, compressed
    async with served(receiver) as url, running_worker(soon):
        endpoint = await create_endpoint(client, key, f"{url}/broken")
        await publish(amqp_url, topology, [earned(tenant)])

        async def state() -> dict[str, Any]:
            return dict(
                (await client.get(f"/v1/webhook_endpoints/{endpoint['id']}", headers=bearer(key))).json()
            )

        disabled = await eventually(state, lambda e: not e["enabled"])
    assert disabled["disabled_reason"] == "Every delivery failed for too long"


async def test_during_a_rotation_both_secrets_sign(client: Client, fast: Settings, make_key: MakeKey) -> None:
    key = await make_key("test")
    receiver = Receiver()
    async with served(receiver) as url, running_worker(fast):
        endpoint = await create_endpoint(client, key, f"{url}/hook")
        rotated = await client.post(
            f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret", headers=bearer(key)
        )
        assert rotated.status_code == 200
        assert rotated.json()["secret"] != endpoint["secret"]
        sent = await client.post(f"/v1/webhook_endpoints/{endpoint['id']}/test", headers=bearer(key))
        assert sent.status_code == 202
        await eventually(receiver.count, lambda n: n == 1)
    arrival = receiver.arrived[0]
    assert len(arrival.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated.json()["secret"]):
        assert standardwebhooks.Webhook(secret).verify(arrival.body, arrival.headers)["type"] == "test.ping"
        assert hand_verify(secret, arrival.headers, arrival.body)


async def test_test_events_need_a_test_key(client: Client, make_key: MakeKey) -> None:
    key = await make_key("live")
    endpoint = await create_endpoint(client, key, "http://127.0.0.1:9/hook")
    refused = await client.post(f"/v1/webhook_endpoints/{endpoint['id']}/test", headers=bearer(key))
    assert refused.status_code == 403
    assert refused.json()["code"] == "test_mode_only"


async def test_a_test_event_to_a_disabled_endpoint_is_a_clear_409(client: Client, make_key: MakeKey) -> None:
    key = await make_key("test")
    made = await client.post(
        "/v1/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/hook", "enabled": False},
        headers=bearer(key),
    )
    assert made.status_code == 201, made.text
    refused = await client.post(f"/v1/webhook_endpoints/{made.json()['id']}/test", headers=bearer(key))
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "endpoint_disabled"
    assert (
        await client.post(f"/v1/webhook_endpoints/{made.json()['id']}/enable", headers=bearer(key))
    ).is_success
    sent = await client.post(f"/v1/webhook_endpoints/{made.json()['id']}/test", headers=bearer(key))
    assert sent.status_code == 202


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/x",
        "https://169.254.169.254/",
        "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
        "https://[2002:a00:1::1]/x",  # 6to4 of 10.0.0.1
        "http://example.com/",
    ],
)
async def test_outside_dev_mode_private_addresses_are_refused(
    settings: Settings, tokens: TestTokens, tenant: uuid.UUID, url: str
) -> None:
    production = msgspec.structs.replace(settings, dev_mode=False)
    async with AsyncTestClient(app=build_app(production, verifier=tokens.verifier())) as client:
        staff = tokens.headers(tokens.staff(tenant, role="manager"), mode="live")
        key = (await client.post("/internal/v1/api_keys", json={"name": "k"}, headers=staff)).json()["secret"]
        refused = await client.post("/v1/webhook_endpoints", json={"url": url}, headers=bearer(key))
    assert refused.status_code == 422
    assert refused.json()["code"] == "webhook_url_not_allowed"


async def test_addresses_are_checked_again_at_delivery_time(
    client: Client,
    fast: Settings,
    make_key: MakeKey,
    tenant: uuid.UUID,
    amqp_url: str,
    topology: Topology,
    db_url: str,
) -> None:
    key = await make_key("test")
    receiver = Receiver()
    async with served(receiver) as url:
        await create_endpoint(client, key, f"{url}/hook")  # allowed: the app runs in dev mode
        async with running_worker(msgspec.structs.replace(fast, dev_mode=False)):
            await publish(amqp_url, topology, [earned(tenant)])

            async def refused() -> int:
                return await _count(
                    db_url, "SELECT count(*) FROM webhook_attempts WHERE error LIKE 'WebhookUrlNotAllowed%'"
                )

            await eventually(refused, lambda n: n >= 1)
    assert receiver.requests == []


async def _count(db_url: str, sql: str) -> int:
    import asyncpg
    from nujoomy_kit.db import plain_url

    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def _listen(amqp_url: str, topology: Topology, routing_key: str) -> Any:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await topology.declare_exchange(channel)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key=routing_key)

    async def next_message() -> bytes | None:
        message = await queue.get(fail=False)
        if message is None:
            return None
        await message.ack()
        await connection.close()
        return message.body

    return next_message


async def _len(items: list[Any]) -> int:
    return len(items)


async def test_a_deleted_endpoint_gets_nothing_more(
    client: Client,
    fast: Settings,
    make_key: MakeKey,
    tenant: uuid.UUID,
    amqp_url: str,
    topology: Topology,
    db_url: str,
) -> None:
    key = await make_key("test")
    receiver = Receiver()
    async with served(receiver) as url:
        endpoint = await create_endpoint(client, key, f"{url}/hook")
        sent = (await client.post(f"/v1/webhook_endpoints/{endpoint['id']}/test", headers=bearer(key))).json()
        assert sent["status"] == "pending"
        deleted = await client.delete(f"/v1/webhook_endpoints/{endpoint['id']}", headers=bearer(key))
        assert deleted.status_code == 204
        async with running_worker(fast):
            sql = "SELECT count(*) FROM webhook_deliveries WHERE status = 'cancelled'"
            await eventually(lambda: _count(db_url, sql), lambda n: n == 1)
    assert receiver.requests == []
    gone = await client.get(f"/v1/webhook_endpoints/{endpoint['id']}", headers=bearer(key))
    assert gone.status_code == 404
