"""Test harness: apps served by uvicorn on ephemeral ports, a partner's receiving endpoint (the
outside world), the gateway worker, and publishing platform events onto the test's exchange."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import msgspec
from nujoomy_contracts import Envelope, encode_envelope
from nujoomy_messaging import Topology
from nujoomy_partner_gateway.settings import Settings
from nujoomy_partner_gateway.worker import build_worker
from nujoomy_testing.servers import read_body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Arrival(msgspec.Struct):
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """A partner's webhook endpoint. `status` is what it answers; 2xx answers are what "arrived"."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[Arrival] = []
        self._lock = threading.Lock()

    @property
    def arrived(self) -> list[Arrival]:
        with self._lock:
            return [a for a in self.requests if 200 <= a.status < 300]

    async def count(self) -> int:
        return len(self.arrived)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status = self.status
        with self._lock:
            self.requests.append(Arrival(scope["path"], headers, body, status))
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": f"answered {status}".encode()})


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    worker = build_worker(settings, relay_poll=0.1)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.started.wait(), 15)
    try:
        yield
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)


async def publish(amqp_url: str, topology: Topology, envelopes: list[Envelope[Any]]) -> None:
    """What a sibling's outbox relay does: persistent messages on the events exchange."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await topology.declare_exchange(channel)
        for envelope in envelopes:
            await exchange.publish(
                aio_pika.Message(
                    encode_envelope(envelope),
                    message_id=str(envelope.id),
                    type=envelope.type,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=envelope.type,
            )
    finally:
        await connection.close()
