"""A worker started (or restarted) while the broker is away waits for it instead of exiting: under
Kubernetes or `make up` an exit is a restart loop, and in the whole-system suite workers restarted
mid-outage died at start-up (aiormq ends a handshake cut by the peer with StopAsyncIteration)."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import ProxiedWorker


async def test_a_worker_started_during_a_broker_outage_waits_and_then_consumes(
    proxied_worker: ProxiedWorker,
) -> None:
    worker, proxy = proxied_worker.worker, proxied_worker.proxy
    proxy.drop()  # every connection is accepted and cut at once, as by a restarting broker
    task = proxied_worker.run()
    await asyncio.sleep(2)  # several connection attempts fail meanwhile
    assert not task.done(), task.exception() if task.done() else None
    assert not worker.started.is_set()
    # Then the broker flaps while the worker connects: cuts land mid-handshake and mid-declare.
    flaps = random.Random(7)
    for _ in range(40):
        proxy.restore()
        await asyncio.sleep(flaps.uniform(0.01, 0.12))
        proxy.drop()
        await asyncio.sleep(flaps.uniform(0.01, 0.05))
        assert not task.done(), task.exception() if task.done() else None
    proxy.restore()
    await asyncio.wait_for(worker.started.wait(), 30)
    assert [c.spec.name for c in worker.consumers] == ["proxied.things"]
