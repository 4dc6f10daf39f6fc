"""The sender settles each message as soon as the mail server answered it, not when the slowest
message of its batch is answered: a worker killed meanwhile must not send the quick ones again."""

from __future__ import annotations

import asyncio

from nujoomy_testing import eventually


async def test_a_message_is_settled_while_a_slower_one_of_the_same_batch_is_still_sending(
    bus, make, sink, wallet, run_worker
):
    quick, slow = make.member(email="quick@example.com"), make.member(email="slow@example.com")
    async with run_worker(sender_poll_s=3600.0) as running:  # the test drains by hand
        await bus.publish(make.enrolled(quick), make.enrolled(slow))
        queued = "SELECT id FROM messages WHERE status = 'queued'"
        await eventually(lambda: bus.fetch(queued), lambda r: len(r) == 2)
        sink.hold("slow@example.com")
        drain = asyncio.create_task(running.sender.drain())  # both messages in one claimed batch
        try:
            sent_sql = "SELECT recipient FROM messages WHERE status = 'sent'"
            sent = await eventually(lambda: bus.fetch(sent_sql), lambda r: len(r) == 1)
            assert [r["recipient"] for r in sent] == ["quick@example.com"]
            assert sink.holding == 1  # the slow one is still waiting for the server's answer
        finally:
            sink.release()
        assert await drain == 2
    rows = await bus.fetch("SELECT recipient FROM messages WHERE status = 'sent'")
    assert sorted(r["recipient"] for r in rows) == ["quick@example.com", "slow@example.com"]
    assert len(sink.messages) == 2
