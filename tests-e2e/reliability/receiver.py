"""The partner's webhook endpoint in the reliability suites: a local ASGI receiver that records every
2xx (webhook-id, type, data) and can be down (refusing connections, or answering 503), slow, or up."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from nujoomy_testing.servers import read_body, served


class Receiver:
    """A partner's webhook endpoint: `mode` "up", "down" (503), "slow" (answers after `slow_s`), or
    "gone" (410: the partner retired it, which disables the endpoint at the gateway).
    Served with `serving()`, it can also stop listening (`close`, then `open` on the same port): a
    host whose server is down refuses the connection, which the gateway meets before any HTTP."""

    def __init__(self) -> None:
        self.mode = "up"
        self.slow_s = 10.0
        self.ok: list[tuple[str, str, dict[str, Any]]] = []  # (webhook-id, type, data) per 2xx
        self.refused = 0  # answered 503 or 410
        self.url = ""
        self._lock = threading.Lock()
        self._port = 0
        self._server: contextlib.AsyncExitStack | None = None

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """Serve on a port of its own and yield the base URL, which stays the same across close/open."""
        self._port = _spare_port()
        self.url = f"http://127.0.0.1:{self._port}"
        await self.open()
        try:
            yield self.url
        finally:
            await self.close()

    async def open(self) -> None:
        if self._server is None:
            server = contextlib.AsyncExitStack()
            await server.enter_async_context(served(self, port=self._port))
            self._server = server

    async def close(self) -> None:
        """Nothing listens on the port until `open`: connecting gets ECONNREFUSED."""
        if self._server is not None:
            server, self._server = self._server, None
            await server.aclose()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        mode = self.mode
        if mode == "slow":
            await asyncio.sleep(self.slow_s)
        status = {"down": 503, "gone": 410}.get(mode, 200)
        with self._lock:
            if status == 200:
                event = json.loads(body)
                self.ok.append((headers.get("webhook-id", "?"), event["type"], event["data"]))
            else:
                self.refused += 1
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _spare_port() -> int:
    """A free port below the kernel's ephemeral range: while the receiver is closed nothing holds
    it, and an outgoing connection (given an ephemeral port) cannot take it in the meantime."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except OSError:
        low = 32768
    for port in random.sample(range(max(1024, low - 8000), low), 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")
