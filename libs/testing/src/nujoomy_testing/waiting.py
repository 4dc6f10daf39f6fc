"""Waiting for an outcome in an asynchronous system without a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    timeout: float = 15.0,
    interval: float = 0.05,
) -> T:
    """Call `probe` until `until(result)` holds; raise AssertionError with the last result on timeout."""
    deadline = time.monotonic() + timeout
    result = await probe()
    while not until(result):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {result!r}")
        await asyncio.sleep(interval)
        result = await probe()
    return result
