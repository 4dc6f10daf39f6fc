"""Running a service's Worker (outbox relay, consumers, jobs) in a test, as its process runs it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any


@contextlib.asynccontextmanager
async def working(worker: Any, start_timeout: float = 30.0) -> AsyncIterator[Any]:
    """Runs `worker.run()` on its own thread and event loop (so a test client blocking the test's
    loop cannot starve it) until the block ends; yields the worker once it has started."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(worker.run(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not worker.started.is_set():
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the {worker.service} worker did not start")
        await asyncio.sleep(0.02)
    try:
        yield worker
    finally:
        loop.call_soon_threadsafe(worker.stop)
        await asyncio.to_thread(thread.join, 15)
        loop.close()
