"""A consumer whose own database is away does not spend its messages' attempts: however long the
outage, nothing reaches the dead-letter queue, and everything is applied once the database is back."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from nujoomy_messaging import Topology, deadletters
from nujoomy_testing import TcpProxy, eventually

from .test_delivery import applied, exactly_once, place_orders, running_relay, running_worker, spec


async def test_messages_outlive_a_database_outage_longer_than_their_retries(
    service_a: str, service_b: str, amqp_url: str, topology: Topology
) -> None:
    parsed = urlparse(service_b)
    proxy = await TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5432).start()
    fast = spec(delays=(50, 50, 50))  # the whole retry ladder is 150 ms
    try:
        async with (
            running_worker(proxy.url_for(service_b), amqp_url, topology, [fast]),
            running_relay(service_a, amqp_url, topology),
        ):
            await place_orders(service_a, range(5))
            await eventually(lambda: applied(service_b), lambda rows: len(rows) == 5)
            proxy.drop()
            await place_orders(service_a, range(5, 25))  # consumed while the database is away
            await asyncio.sleep(3)  # many times the retry ladder
            assert await deadletters.count(amqp_url, topology, "b.orders") == 0
            proxy.restore()
            await eventually(lambda: applied(service_b), lambda rows: len(set(rows)) == 25, timeout=60)
    finally:
        await proxy.close()
    assert exactly_once(await applied(service_b), set(range(25)))
    assert await deadletters.count(amqp_url, topology, "b.orders") == 0
