"""Runs an OutboxRelay as its own process, so a test can SIGKILL it mid-batch."""

import asyncio
import sys

from nujoomy_messaging.relay import OutboxRelay
from nujoomy_messaging.topology import Topology


async def main() -> None:
    db, amqp, exchange, prefix, batch = sys.argv[1:6]
    relay = OutboxRelay(
        database_url=db,
        amqp_url=amqp,
        topology=Topology(exchange=exchange, prefix=prefix),
        batch_size=int(batch),
        poll_interval=0.2,
    )
    await relay.run()


asyncio.run(main())
