"""Replays, as an operator and a partner run them against the running system.

- Dead letters: no fault of the suite leaves one (APNs 410s unregister the device in wallet-pass's
  database, a failing webhook endpoint keeps its deliveries in the gateway's), so the checker asserts
  every DLQ empty. To prove the operator's path still works, real events the system already applied
  (copied off the exchange by an observer queue) are put into the consumers' dead-letter queues, as
  a dependency outage longer than the retry ladder would leave them; `nujoomy dlq list` must show
  them, `nujoomy dlq replay <consumer> --all` must drain them, and the consumers' inboxes must make
  the replay a no-op (no second e-mail, webhook or push).
- A retired endpoint: one endpoint answers 410 Gone from the first event, so the gateway disables
  it and cancels what it owed (the webhook plane's permanently undeliverable). The partner fixes
  it, turns it back on (`POST /v1/webhook_endpoints/{id}/enable`) and replays everything since the
  start: it must then hold every event, each under one webhook-id (the checker, `revive`).
- Webhooks: the partner asks for a replay of everything since the start
  (`POST /v1/webhook_endpoints/{id}/replay`); every event arrives again under its original
  `webhook-id`, so a partner deduplicating on it sees each event once.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx

from .journey import Journey
from .receiver import Receiver
from .stack import ROOT, System

OBSERVER = "chaos-observer"
REPLAYED = (  # consumer (dead-letter queue) -> a routing key it binds
    ("notification.events", "ledger.member.enrolled"),
    ("partner-gateway.webhooks", "ledger.member.enrolled"),
)


async def observe(system: System) -> None:
    """A queue on the events exchange (straight to the broker) that keeps a copy of every event."""
    connection = await aio_pika.connect(system.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await system.topology.declare_exchange(channel)
        queue = await channel.declare_queue(f"{system.topology.prefix}{OBSERVER}", durable=True)
        await queue.bind(exchange, routing_key="#")
    finally:
        await connection.close()


async def _first(system: System, type_: str) -> aio_pika.abc.AbstractIncomingMessage | None:
    connection = await aio_pika.connect(system.amqp_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(f"{system.topology.prefix}{OBSERVER}", passive=True)
    try:
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            if message.routing_key == type_:
                return message
        return None
    finally:
        await connection.close()


def cli(system: System, *args: str) -> str:
    """`uv run nujoomy …` as an operator runs it against this installation (its environment, the
    broker reached directly)."""
    env = {**system.env, "NUJOOMY_AMQP_URL": system.amqp_url}
    done = subprocess.run(
        [sys.executable, "-m", "nujoomy_cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def dead_letter_replay(system: System) -> dict[str, Any]:
    """Dead-letter an applied event for each consumer in REPLAYED, then list and replay them with
    the CLI. Returns what the operator saw."""
    connection = await aio_pika.connect(system.amqp_url)
    try:
        channel = await connection.channel()
        for consumer, type_ in REPLAYED:
            message = await _first(system, type_)
            assert message is not None, f"the observer saw no {type_}"
            await channel.default_exchange.publish(
                aio_pika.Message(
                    body=message.body,
                    headers={"x-nujoomy-error": "replay drill"},
                    message_id=message.message_id,
                    type=message.type,
                    content_type=message.content_type,
                ),
                routing_key=system.topology.dlq(consumer),
            )
    finally:
        await connection.close()
    listed = cli(system, "dlq", "list")
    shown = {c: cli(system, "dlq", "show", c) for c, _ in REPLAYED}
    replayed = {c: cli(system, "dlq", "replay", c, "--all") for c, _ in REPLAYED}
    return {"list": listed, "show": shown, "replay": replayed}


async def webhook_replay(
    journey: Journey, receiver: Receiver, url: str, since: datetime
) -> tuple[int, int, int]:
    """The partner replays every delivery to its endpoint at `url` since `since`. Returns (webhook-ids
    before, of those received again, new webhook-ids)."""
    before = {wid for wid, _, _ in receiver.ok}
    headers = {"Authorization": f"Bearer {journey.partner_key}"}
    async with httpx.AsyncClient(base_url=journey.system.gateways[0], timeout=30, headers=headers) as http:
        endpoints = (await http.get("/v1/webhook_endpoints")).json()["data"]
        endpoint = next(e["id"] for e in endpoints if e["url"] == url)
        r = await http.post(f"/v1/webhook_endpoints/{endpoint}/replay", json={"since": since.isoformat()})
        assert r.status_code == 202, r.text
    count = len(receiver.ok)
    for _ in range(240):
        await asyncio.sleep(0.5)
        if len(receiver.ok) - count >= len(before):
            break
    again = {wid for wid, _, _ in receiver.ok[count:]}
    return len(before), len(again & before), len(again - before)


async def revive(journey: Journey, receiver: Receiver, url: str, since: datetime) -> dict[str, Any]:
    """The partner behind the 410 endpoint at `url`: sees it disabled (and why), brings its server
    back, enables the endpoint and replays since `since`. Returns what the partner saw."""
    headers = {"Authorization": f"Bearer {journey.partner_key}"}
    async with httpx.AsyncClient(base_url=journey.system.gateways[0], timeout=30, headers=headers) as http:
        endpoints = (await http.get("/v1/webhook_endpoints")).json()["data"]
        endpoint = next(e for e in endpoints if e["url"] == url)
        assert endpoint["enabled"] is False, endpoint  # disabled by the 410 …
        assert "410" in (endpoint["disabled_reason"] or ""), endpoint
        assert receiver.ok == []  # … and nothing more was sent to it
        receiver.mode = "up"
        enabled = await http.post(f"/v1/webhook_endpoints/{endpoint['id']}/enable")
        assert enabled.status_code == 200, enabled.text
        r = await http.post(
            f"/v1/webhook_endpoints/{endpoint['id']}/replay", json={"since": since.isoformat()}
        )
        assert r.status_code == 202, r.text
    return {"answered 410": receiver.refused, "replay": r.json()}


def now() -> datetime:
    return datetime.now(UTC)
