"""The worker's probe listener: live while its loop answers, ready only while it consumes over an open
broker connection, 503 naming what is down otherwise (a broker outage does not fail liveness, so
Kubernetes waits for the reconnect instead of restarting pods in a loop)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_messaging import Topology, Worker
from nujoomy_messaging.health import serve_health, start_health
from nujoomy_testing import eventually
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from .conftest import ProxiedWorker


async def test_worker_probes_follow_its_broker_connection(proxied_worker: ProxiedWorker) -> None:
    worker, proxy = proxied_worker.worker, proxied_worker.proxy
    server = await serve_health(worker, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            assert (await http.get("/health/live")).status_code == 200
            starting = await http.get("/health/ready")
            assert starting.status_code == 503
            assert starting.json()["checks"]["worker"] == "starting"

            proxied_worker.run()
            await asyncio.wait_for(worker.started.wait(), 15)
            ready = await http.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json() == {"status": "ok", "checks": {"worker": "ok", "relay": "ok", "broker": "ok"}}

            proxy.drop()
            down = await eventually(lambda: http.get("/health/ready"), lambda r: r.status_code == 503)
            assert down.json()["checks"]["broker"].startswith("down")
            assert (await http.get("/health/live")).status_code == 200  # no restart for a broker outage
            proxy.restore()
            await eventually(lambda: http.get("/health/ready"), lambda r: r.status_code == 200, timeout=30)

            assert (await http.get("/metrics")).status_code == 404
            assert (await http.post("/health/live")).status_code == 405
            worker.stop()
            stopping = await http.get("/health/ready")
            assert stopping.status_code == 503
            assert stopping.json()["checks"]["worker"] == "stopping"
    finally:
        server.close()


def idle_worker(database: str, amqp_url: str, topology: Topology, engine: AsyncEngine) -> Worker:
    """A worker that is never run: what the listener reports about it is all these tests need."""
    sessions = make_sessionmaker(engine)
    return Worker(
        service="probed", database_url=database, amqp_url=amqp_url, topology=topology, sessions=sessions
    )


async def test_a_garbage_request_gets_no_answer_and_the_listener_goes_on(
    service_b: str, amqp_url: str, topology: Topology
) -> None:
    engine = make_engine(service_b, pool_size=1)
    worker = idle_worker(service_b, amqp_url, topology, engine)
    server = await serve_health(worker, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"x" * 20000)  # no end of headers within the limit
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200
    finally:
        server.close()
        await engine.dispose()


async def test_a_taken_port_leaves_the_worker_running_without_a_listener(
    service_b: str, amqp_url: str, topology: Topology
) -> None:
    # A process the worker supervises inherits NUJOOMY_WORKER_HEALTH_PORT; the parent answers.
    engine = make_engine(service_b, pool_size=1)
    worker = idle_worker(service_b, amqp_url, topology, engine)
    first = await serve_health(worker, "127.0.0.1", 0)
    try:
        port = first.sockets[0].getsockname()[1]
        assert await start_health(worker, "127.0.0.1", port) is None
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200
    finally:
        first.close()
        await engine.dispose()
