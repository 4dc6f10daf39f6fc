"""The Apple runner's promises: a claimed job survives a crash (its claim is a lease that expires),
and a job that keeps failing stops in its terminal state until a new change revives it."""

from __future__ import annotations

import uuid

import msgspec
from litestar.testing import AsyncTestClient
from nujoomy_wallet_pass.fakes.apns import ApnsFake
from nujoomy_wallet_pass.settings import Settings
from nujoomy_wallet_pass.worker import build_runner
from test_sync import install, scalar
from wallet_pass_helpers import apply, balance, enrolled

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a0d1")


async def test_a_job_claimed_by_a_runner_that_crashed_is_pushed_once_its_lease_expires(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    apns: ApnsFake,
) -> None:
    member = uuid.uuid4()
    await apply(settings, enrolled(TENANT, member, None))
    phone = "e6" * 32
    await install(client, settings, member, "phone", phone)
    await apply(settings, balance(TENANT, member, 11, 1))
    crashed, survivor = build_runner(settings), build_runner(settings)
    try:
        [job] = await crashed.apple_runner._claim()  # claimed, then the process dies before pushing
        assert job.tokens == [phone]
        assert await survivor.apple_runner.run_until_idle() == 0  # leased: not handed out twice
        await scalar(settings, "UPDATE sync_jobs SET due_at = now()")  # the 60 s lease runs out
        assert await survivor.apple_runner.run_until_idle() == 1
    finally:
        await crashed.aclose()
        await survivor.aclose()
    assert len(apns.pushes_for(phone)) == 1
    assert await scalar(settings, "SELECT count(*) FROM sync_jobs") == 0


async def test_a_job_that_keeps_failing_stops_in_its_terminal_state_until_the_member_changes(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    apns: ApnsFake,
) -> None:
    member = uuid.uuid4()
    await apply(settings, enrolled(TENANT, member, None))
    phone = "f7" * 32
    await install(client, settings, member, "phone", phone)
    apns.answer(phone, 503)  # APNs keeps failing for this device
    await apply(settings, balance(TENANT, member, 4, 1))
    runner = build_runner(msgspec.structs.replace(settings, sync_max_attempts=2))
    runner.apns.client(runner.wallet.credentials, settings.apns_base_url).max_attempts = 1
    try:
        for _ in range(2):
            await scalar(settings, "UPDATE sync_jobs SET due_at = now()")  # skip the backoff
            assert await runner.apple_runner.run_once() == 1
        row = await scalar(settings, "SELECT failed_at IS NOT NULL AND last_error LIKE '503%' FROM sync_jobs")
        assert row is True
        await scalar(settings, "UPDATE sync_jobs SET due_at = now()")
        assert await runner.apple_runner.run_once() == 0  # terminal: not claimed again
        del apns.always[phone]
        await apply(settings, balance(TENANT, member, 5, 2))  # a new change revives it
        assert await runner.apple_runner.run_until_idle() == 1
    finally:
        await runner.aclose()
    assert len(apns.pushes_for(phone)) == 1
    assert await scalar(settings, "SELECT count(*) FROM sync_jobs") == 0
