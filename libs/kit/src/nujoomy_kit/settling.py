"""Send a claimed batch concurrently and record each outcome as soon as it is known.

The gateway's webhook dispatcher and notification's sender both lease a batch of rows, send each
to someone outside (a partner's endpoint, an SMTP server) and write what happened. Whatever has
finished is written in one transaction while the rest are still in flight, so a worker killed
after the outside world accepted something but before it was recorded re-sends (same webhook-id,
same Message-ID) at most one commit's worth when the lease runs out — not the whole batch up to
its slowest send.

The database going away between the send and the record (a restart, a failover) is the other way
to lose a record: the outcome is held and written again, with backoff, for as long as the lease
still protects the rows (HOLD of it, counted from the call, which comes right after the claim).
After that another worker may have claimed them, so the error is raised and the lease decides.
`settle` must be safe to run twice with the same outcomes (a COMMIT whose answer was lost may have
landed): both callers guard their updates on the state they claimed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import structlog

from nujoomy_kit.db_errors import database_unavailable

T = TypeVar("T")

log = structlog.get_logger("nujoomy.settling")

HOLD = 0.8  # of the lease: a margin for clocks and the last attempt's own round trip


async def settle_as_finished(
    work: Iterable[Awaitable[T]],
    settle: Callable[[list[T]], Awaitable[None]],
    *,
    lease_s: float,
    pause: float = 0.25,
    max_pause: float = 2.0,
) -> None:
    """Run `work` concurrently; hand each group of finished results to `settle` while the rest are
    in flight. `lease_s` is the lease the rows were just claimed for: past HOLD of it a record the
    database refused is not tried again. Any other error, or that one past the deadline, cancels
    what is still in flight and is raised."""
    loop = asyncio.get_running_loop()
    hold_until = loop.time() + lease_s * HOLD
    pending = {asyncio.ensure_future(w) for w in work}
    unsettled: list[T] = []  # finished, not yet recorded: only non-empty after a refused record
    wait = pause
    try:
        while pending or unsettled:
            if pending:
                # After a refused record, wait at most `wait` for more to finish before trying again.
                done, pending = await asyncio.wait(
                    pending, timeout=wait if unsettled else None, return_when=asyncio.FIRST_COMPLETED
                )
                unsettled.extend(task.result() for task in done)
            else:
                await asyncio.sleep(wait)
            try:
                await settle(list(unsettled))
            except Exception as exc:
                if not database_unavailable(exc) or loop.time() + wait > hold_until:
                    raise
                log.warning("settle_deferred", outcomes=len(unsettled), error=repr(exc))
                wait = min(wait * 2, max_pause)
                continue
            unsettled.clear()
            wait = pause
    finally:
        # Raised: the leases bring the rest back; stop sending them.
        for task in pending:
            task.cancel()
