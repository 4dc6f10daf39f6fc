"""A worker's health listener: `/health/live` and `/health/ready` over plain HTTP/1.1, for the
orchestrator's probes (the API processes have Litestar for this; a worker has no web server, and a
framework for two fixed answers would be most of its memory).

live: the worker's event loop answers (a wedged loop answers nothing, and the probe times out).
ready: the worker started (consumers declared and consuming) and is not stopping, and its broker
connection, when it has consumers, is open. Both answer JSON like the API's health routes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import msgspec
import structlog

log = structlog.get_logger("nujoomy.worker")


class Probed(Protocol):
    def health(self) -> dict[str, str]: ...


async def serve_health(worker: Probed, host: str, port: int) -> asyncio.Server:
    """Starts the listener on (host, port); the caller closes the returned server."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.partition(" ")[0]
            status, body = _route(worker, method, path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # a probe that hung up or sent garbage gets nothing
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    return await asyncio.start_server(answer, host, port, limit=8192)


async def start_health(worker: Probed, host: str, port: int) -> asyncio.Server | None:
    """serve_health, or None (logged) when the port is taken: a process a worker supervises inherits
    its environment, port included, and must not die of it; the supervisor answers the probes."""
    try:
        return await serve_health(worker, host, port)
    except OSError as exc:
        log.warning("health_listener_unavailable", host=host, port=port, error=repr(exc))
        return None


def _route(worker: Probed, method: str, path: str) -> tuple[str, bytes]:
    if method not in ("GET", "HEAD"):
        return "405 Method Not Allowed", b'{"status":"method not allowed"}'
    if path == "/health/live":
        return "200 OK", b'{"status":"ok"}'
    if path == "/health/ready":
        checks = worker.health()
        healthy = all(v == "ok" for v in checks.values())
        body = msgspec.json.encode({"status": "ok" if healthy else "unavailable", "checks": checks})
        return ("200 OK" if healthy else "503 Service Unavailable"), body
    return "404 Not Found", b'{"status":"not found"}'
