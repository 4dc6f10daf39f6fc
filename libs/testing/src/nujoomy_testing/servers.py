"""Serving a real app (a service's build_app, or an outside-world fake) on an ephemeral port."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn


@contextlib.asynccontextmanager
async def served(app: Any, port: int = 0, start_timeout: float = 60.0) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 from its own thread and event loop (so a test client that blocks the
    test's loop cannot starve it); yields its base URL. The app's lifespan runs inside uvicorn."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="auto",
        access_log=False,
        # keep-alive connections from other services' pools must not hold shutdown open
        timeout_graceful_shutdown=1,
        proxy_headers=False,  # as kit.server.serve: the app sees the socket peer
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the server did not start")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)


async def read_body(receive: Any) -> bytes:
    """The whole request body an ASGI app is sent, however many messages it comes in."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
