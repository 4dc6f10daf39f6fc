"""A service's worker process: its outbox relay, its consumers and its scheduled jobs, together.

Started by each service's `worker.py`; stops cleanly on SIGINT/SIGTERM (consumers stop taking
messages, in-flight handlers finish, the relay stops after its current batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Sequence

import aio_pika
import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_messaging.consumer import ConsumerSpec, EventConsumer, start_consumers
from nujoomy_messaging.health import start_health
from nujoomy_messaging.relay import OutboxRelay
from nujoomy_messaging.topology import Topology

log = structlog.get_logger("nujoomy.worker")


class PeriodicJob(msgspec.Struct, frozen=True):
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]


class Worker:
    def __init__(
        self,
        *,
        service: str,
        database_url: str,
        amqp_url: str,
        topology: Topology,
        sessions: async_sessionmaker[AsyncSession],
        consumers: Sequence[ConsumerSpec] = (),
        jobs: Sequence[PeriodicJob] = (),
        relay_batch: int = 500,
        relay_poll: float = 1.0,
    ) -> None:
        self.service = service
        self.relay = OutboxRelay(
            database_url=database_url,
            amqp_url=amqp_url,
            topology=topology,
            name=service,
            batch_size=relay_batch,
            poll_interval=relay_poll,
        )
        self._amqp_url = amqp_url
        self._topology = topology
        self._sessions = sessions
        self._specs = list(consumers)
        self._jobs = list(jobs)
        self._stop = asyncio.Event()
        self.consumers: list[EventConsumer] = []
        self.started = asyncio.Event()
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._relay_task: asyncio.Task[None] | None = None

    def stop(self) -> None:
        self._stop.set()
        self.relay.stop()

    def health(self) -> dict[str, str]:
        """What the readiness probe reports: each part "ok" or why not (health.py serves it)."""
        checks = {"worker": "ok" if self.started.is_set() else "starting"}
        if self._stop.is_set():
            checks["worker"] = "stopping"
        relay = self._relay_task
        checks["relay"] = "down: stopped" if relay is None or relay.done() else "ok"
        if self._specs:
            # `connected` is cleared while a robust connection reconnects (is_closed stays False)
            conn = self._connection
            open_ = conn is not None and not conn.is_closed and conn.connected.is_set()
            checks["broker"] = "ok" if open_ else "down: not connected"
        return checks

    async def run(self) -> None:
        self._relay_task = asyncio.create_task(self.relay.run(), name=f"{self.service}-relay")
        tasks = [self._relay_task]
        tasks += [asyncio.create_task(self._every(job), name=job.name) for job in self._jobs]
        connection = None
        try:
            if self._specs:
                connection = self._connection = await self._start_consumers()
            self.started.set()
            log.info("worker_started", service=self.service, consumers=[s.name for s in self._specs])
            await self._stop.wait()
        finally:
            self.relay.stop()
            for consumer in self.consumers:
                await consumer.stop()
            for task in tasks:
                if task.get_name() != f"{self.service}-relay":
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
            log.info("worker_stopped", service=self.service)

    async def _start_consumers(self) -> aio_pika.abc.AbstractRobustConnection:
        """Connect and start every consumer, retrying with backoff until it works or the worker stops.

        A worker (re)started while the broker is away or flapping must wait for it, not exit: a
        connection cut half-way through the handshake surfaces from aiormq as StopAsyncIteration or
        IncompleteReadError, a cut during topology declaration as a channel error, so every failure
        here is retried (found by the whole-system suite: workers restarted mid-outage exited)."""
        delay = 0.5
        while True:
            connection = None
            try:
                connection = await aio_pika.connect_robust(self._amqp_url, timeout=5, reconnect_interval=1)
                self.consumers = await start_consumers(
                    connection, self._specs, sessions=self._sessions, topology=self._topology
                )
                return connection
            except Exception as exc:
                for consumer in self.consumers:
                    with contextlib.suppress(Exception):
                        await consumer.stop()
                self.consumers = []
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                if self._stop.is_set():
                    raise
                log.warning("broker_unreachable", error=repr(exc), in_seconds=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    raise
                delay = min(delay * 2, 10)

    async def _every(self, job: PeriodicJob) -> None:
        while not self._stop.is_set():
            try:
                await job.run()
            except Exception as exc:  # a failing job must not kill the worker; it runs again next tick
                log.error("job_failed", job=job.name, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), job.interval_seconds)


def run_until_signalled(worker: Worker, *, health_host: str = "127.0.0.1", health_port: int = 0) -> None:
    """Runs the worker until SIGINT/SIGTERM; with a health_port, also its probe listener (health.py)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        server = await start_health(worker, health_host, health_port) if health_port else None
        try:
            await worker.run()
        finally:
            if server is not None:
                server.close()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
