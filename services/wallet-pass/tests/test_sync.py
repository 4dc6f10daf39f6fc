"""End to end against the fakes, through a real Worker and real RabbitMQ: ledger and tenant events in,
pushes to every registered device and PATCHes of the Google object out, the fetched pass up to date."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator

import asyncpg
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import make_engine, make_sessionmaker, plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_messaging import Topology, Worker
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass.db.google_callbacks import set_saved
from nujoomy_wallet_pass.domain.links import google_object_id, pass_id
from nujoomy_wallet_pass.fakes.apns import ApnsFake
from nujoomy_wallet_pass.fakes.google import GoogleFakeState
from nujoomy_wallet_pass.settings import Settings
from nujoomy_wallet_pass.sync import SyncRunner
from nujoomy_wallet_pass.worker import build_runner, build_worker
from wallet_pass_helpers import apply, balance, enrolled, program, program_updated, publish

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a004")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b004")
PASS_TYPE = "pass.dev.nujoomy.loyalty"


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[tuple[Worker, SyncRunner]]:
    runner = build_runner(settings)
    worker = build_worker(settings, runner, relay_poll=0.1)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.started.wait(), 15)
    try:
        yield worker, runner
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)
        await runner.apns.aclose()
        if runner.google is not None:
            await runner.google.aclose()


async def scalar(settings: Settings, sql: str, *args: object) -> object:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def install(
    client: AsyncTestClient, settings: Settings, member: uuid.UUID, device: str, push: str
) -> tuple[str, str]:  # type: ignore[type-arg]
    serial = encode_id("pas", pass_id(member, "apple"))
    token = str(
        await scalar(
            settings, "SELECT authentication_token FROM passes WHERE id = $1", pass_id(member, "apple")
        )
    )
    response = await client.post(
        f"/apple/v1/devices/{device}/registrations/{PASS_TYPE}/{serial}",
        json={"pushToken": push},
        headers={"Authorization": f"ApplePass {token}"},
    )
    assert response.status_code == 201
    return serial, token


async def balance_in_fetched_pass(client: AsyncTestClient, serial: str, token: str) -> int:  # type: ignore[type-arg]
    response = await client.get(
        f"/apple/v1/passes/{PASS_TYPE}/{serial}", headers={"Authorization": f"ApplePass {token}"}
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        return int(json.loads(zf.read("pass.json"))["storeCard"]["primaryFields"][0]["value"])


async def test_an_earn_pushes_every_device_patches_google_and_the_pass_shows_it(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    amqp_url: str,
    topology: Topology,
    apns: ApnsFake,
    google: tuple[GoogleFakeState, str],
    tokens: TestTokens,
) -> None:
    state, _ = google
    member = uuid.uuid4()
    object_id = google_object_id(settings.google_issuer_id, TENANT, "live", member)
    async with running_worker(settings):
        await publish(
            amqp_url, topology, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, member, PROGRAM)
        )
        # Enrolment creates the Google object (class first), so the save link works.
        await eventually(lambda: asyncio.sleep(0, state.objects().get(object_id)), lambda o: o is not None)
        assert state.objects()[object_id]["loyaltyPoints"]["balance"] == {"int": 0}
        phone, watch = "11" * 32, "22" * 32
        serial, token = await install(client, settings, member, "iphone", phone)
        await install(client, settings, member, "ipad", watch)
        await publish(amqp_url, topology, balance(TENANT, member, 150, 1))
        await apns.wait_for(1, phone)
        await apns.wait_for(1, watch)
        await eventually(
            lambda: asyncio.sleep(0, state.objects()[object_id]["loyaltyPoints"]["balance"]),
            lambda b: b == {"int": 150},
        )
        [patch] = state.patches(object_id)
        assert patch["notifyPreference"] == "NOTIFY_ON_UPDATE"  # within Google's 3 per 24 h
        assert await balance_in_fetched_pass(client, serial, token) == 150
        status = await client.get(
            f"/internal/v1/members/{encode_id('mbr', member)}/passes",
            headers=tokens.headers(tokens.internal(TENANT)),
        )
        apple = next(p for p in status.json()["data"] if p["wallet"] == "apple")
        assert apple["last_pushed_at"] is not None
        assert apple["last_fetched_at"] is not None
        # A stale balance (older sequence) is dropped: no push, no change.
        await publish(amqp_url, topology, balance(TENANT, member, 5, 0), balance(TENANT, member, 170, 2))
        await apns.wait_for(2, phone)
        assert await balance_in_fetched_pass(client, serial, token) == 170
    assert len(apns.pushes_for(phone)) == 2


async def test_ten_scans_in_a_burst_cost_one_push_per_device(
    client: AsyncTestClient,
    settings: Settings,
    apns: ApnsFake,
    google: tuple[GoogleFakeState, str],  # type: ignore[type-arg]
) -> None:
    state, _ = google
    member = uuid.uuid4()
    await apply(settings, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, member, PROGRAM))
    serial, token = await install(client, settings, member, "iphone", "33" * 32)
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()  # the enrolment's job (Google object)
        before = len(apns.pushes)
        await apply(settings, *(balance(TENANT, member, 10 * i, i) for i in range(1, 11)))
        assert await scalar(settings, "SELECT count(*) FROM sync_jobs") == 1
        assert await runner.run_until_idle() == 1
        assert len(apns.pushes) - before == 1
        object_id = google_object_id(settings.google_issuer_id, TENANT, "live", member)
        assert [p["loyaltyPoints"]["balance"] for p in state.patches(object_id)] == [{"int": 100}]
        assert await balance_in_fetched_pass(client, serial, token) == 100
    finally:
        await runner.apns.aclose()


async def test_google_notifications_stay_within_three_per_day(
    settings: Settings, google: tuple[GoogleFakeState, str]
) -> None:
    state, _ = google
    member = uuid.uuid4()
    await apply(settings, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, member, PROGRAM))
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()
        for i in range(1, 6):
            await apply(settings, balance(TENANT, member, i, i))
            await runner.run_until_idle()
        patches = state.patches(google_object_id(settings.google_issuer_id, TENANT, "live", member))
        assert [p["loyaltyPoints"]["balance"]["int"] for p in patches] == [1, 2, 3, 4, 5]
        assert [p.get("notifyPreference") for p in patches] == ["NOTIFY_ON_UPDATE"] * 3 + [None, None]
    finally:
        await runner.apns.aclose()


async def test_unregistered_token_deletes_the_registration_and_publishes_removed(
    client: AsyncTestClient,
    settings: Settings,
    apns: ApnsFake,  # type: ignore[type-arg]
) -> None:
    member = uuid.uuid4()
    await apply(settings, enrolled(TENANT, member, None))
    gone = "44" * 32
    await install(client, settings, member, "old-phone", gone)
    await install(client, settings, member, "new-phone", "55" * 32)
    apns.answer(gone, 410)
    await apply(settings, balance(TENANT, member, 9, 1))
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()
    finally:
        await runner.apns.aclose()
    assert await scalar(settings, "SELECT count(*) FROM apple_registrations WHERE push_token = $1", gone) == 0
    assert await scalar(settings, "SELECT count(*) FROM apple_registrations") == 1
    assert (
        await scalar(settings, "SELECT count(*) FROM outbox WHERE routing_key = 'wallet.pass.removed'") == 1
    )
    assert len(apns.pushes_for("55" * 32)) == 1


async def test_apns_outage_retries_the_job_later_without_losing_it(
    client: AsyncTestClient,
    settings: Settings,
    apns: ApnsFake,  # type: ignore[type-arg]
) -> None:
    member = uuid.uuid4()
    await apply(settings, enrolled(TENANT, member, None))
    token = "66" * 32
    await install(client, settings, member, "phone", token)
    apns.answer(token, 503)
    await apply(settings, balance(TENANT, member, 3, 1))
    runner = build_runner(settings)
    runner.apns.client(runner.wallet.credentials, settings.apns_base_url).max_attempts = 1
    try:
        await runner.run_once()
        assert await scalar(settings, "SELECT count(*) FROM sync_jobs WHERE due_at > now()") == 1
        del apns.always[token]
        await scalar(settings, "UPDATE sync_jobs SET due_at = now()")
        await runner.run_until_idle()
    finally:
        await runner.apns.aclose()
    assert len(apns.pushes_for(token)) == 1
    assert await scalar(settings, "SELECT count(*) FROM sync_jobs") == 0


async def test_a_branding_change_re_renders_and_pushes_every_pass_with_progress(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    amqp_url: str,
    topology: Topology,
    apns: ApnsFake,
    google: tuple[GoogleFakeState, str],
    tokens: TestTokens,
) -> None:
    state, _ = google
    members = [uuid.uuid4() for _ in range(30)]
    await apply(
        settings, program_updated(program(TENANT, PROGRAM)), *(enrolled(TENANT, m, PROGRAM) for m in members)
    )
    for i, m in enumerate(members):
        await install(client, settings, m, f"dev{i}", f"{i + 1:064x}")
    progress_path = f"/internal/v1/sync/programs/{encode_id('prg', PROGRAM)}"
    headers = tokens.headers(tokens.staff(TENANT, role="manager"))  # the program page's
    async with running_worker(settings):
        await eventually(lambda: scalar(settings, "SELECT count(*) FROM sync_jobs"), lambda n: n == 0)
        before = len(apns.pushes)
        # An older version arriving late changes nothing.
        await publish(
            amqp_url, topology, program_updated(program(TENANT, PROGRAM, version=0, color="#000000"))
        )
        await publish(
            amqp_url,
            topology,
            program_updated(program(TENANT, PROGRAM, version=2, color="#FF0000", branding_version="b2")),
        )
        progress = await eventually(
            lambda: client.get(progress_path, headers=headers),
            lambda r: r.json().get("done") is True and r.json()["total"] == 30,
        )
        assert progress.json()["pushed"] == 30
        await apns.wait_for(before + 30)
        # Google has its own queue: the class catches up on its own schedule, not the pushes'.
        await eventually(
            lambda: asyncio.sleep(0, next(iter(state.stores["loyaltyClass"].values()))),
            lambda k: k["hexBackgroundColor"] == "#FF0000",
        )
    serial = encode_id("pas", pass_id(members[0], "apple"))
    token = str(
        await scalar(
            settings, "SELECT authentication_token FROM passes WHERE id = $1", pass_id(members[0], "apple")
        )
    )
    response = await client.get(
        f"/apple/v1/passes/{PASS_TYPE}/{serial}", headers={"Authorization": f"ApplePass {token}"}
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert json.loads(zf.read("pass.json"))["backgroundColor"] == "rgb(255, 0, 0)"
    klass = next(iter(state.stores["loyaltyClass"].values()))
    assert klass["hexBackgroundColor"] == "#FF0000"
    other = await client.get(
        progress_path, headers=tokens.headers(tokens.staff(TENANT, role="manager"), "test")
    )
    assert other.json()["total"] == 0  # the test plane has its own (empty) re-sync


async def test_test_mode_passes_never_reach_the_live_endpoints(
    client: AsyncTestClient,
    settings: Settings,
    apns: ApnsFake,
    google: tuple[GoogleFakeState, str],  # type: ignore[type-arg]
) -> None:
    import msgspec

    state, _url = google
    # Live endpoints point at a closed port: any live call would fail the job; test mode uses the fakes.
    isolated = msgspec.structs.replace(
        settings,
        apns_base_url="https://127.0.0.1:9",
        google_base_url="http://127.0.0.1:9/walletobjects/v1",
        google_token_url="http://127.0.0.1:9/token",
        apns_base_url_test=settings.apns_base_url,
        google_base_url_test=settings.google_base_url,
        google_token_url_test=settings.google_token_url,
    )
    member = uuid.uuid4()
    await apply(
        isolated, program_updated(program(TENANT, PROGRAM), "test"), enrolled(TENANT, member, PROGRAM, "test")
    )
    await install(client, isolated, member, "tphone", "77" * 32)
    await apply(isolated, balance(TENANT, member, 12, 1, "test"))
    runner = build_runner(isolated)
    try:
        assert await runner.run_until_idle() == 1
    finally:
        await runner.apns.aclose()
    assert len(apns.pushes_for("77" * 32)) == 1
    obj = state.objects()[google_object_id(settings.google_issuer_id, TENANT, "test", member)]
    assert obj["loyaltyPoints"]["balance"] == {"int": 12}
    assert await scalar(settings, "SELECT count(*) FROM sync_jobs") == 0


async def test_erasure_retires_the_google_object(
    settings: Settings, google: tuple[GoogleFakeState, str]
) -> None:
    from wallet_pass_helpers import erased

    state, _ = google
    member = uuid.uuid4()
    await apply(settings, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, member, PROGRAM))
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()
        object_id = google_object_id(settings.google_issuer_id, TENANT, "live", member)
        assert state.objects()[object_id]["state"] == "ACTIVE"
        await apply(settings, erased(TENANT, member))
        await runner.run_until_idle()
    finally:
        await runner.apns.aclose()
    retired = state.objects()[object_id]
    assert retired["state"] == "INACTIVE"
    assert retired["accountName"] == ""
    assert await scalar(settings, "SELECT count(*) FROM google_objects") == 0
    assert await scalar(settings, "SELECT count(*) FROM sync_jobs") == 0


async def test_the_pass_summary_counts_installed_passes_per_wallet_in_its_own_plane(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    tokens: TestTokens,
    google: tuple[GoogleFakeState, str],
) -> None:
    members = [uuid.uuid4() for _ in range(3)]
    await apply(
        settings, program_updated(program(TENANT, PROGRAM)), *(enrolled(TENANT, m, PROGRAM) for m in members)
    )
    await install(client, settings, members[0], "dev-a", "a1" * 32)
    await install(client, settings, members[0], "dev-b", "b1" * 32)  # two devices, one pass
    await install(client, settings, members[1], "dev-c", "c1" * 32)
    runner = build_runner(settings)
    try:
        await runner.run_until_idle()  # creates the Google objects
    finally:
        await runner.apns.aclose()

    async def summary(tenant: uuid.UUID, mode: str) -> dict[str, int]:
        # The overview's figure: a manager's.
        headers = tokens.headers(tokens.staff(tenant, role="manager"), mode)  # type: ignore[arg-type]
        response = await client.get("/internal/v1/passes/summary", headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    # Three Google objects exist; a pass counts only once its holder saved it (the save callback).
    assert await summary(TENANT, "live") == {"apple": 2, "google": 0}
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            for m, saved in ((members[0], True), (members[1], True), (members[1], False)):
                await set_saved(db, google_object_id(settings.google_issuer_id, TENANT, "live", m), saved)
    finally:
        await engine.dispose()
    assert await summary(TENANT, "live") == {"apple": 2, "google": 1}  # saved, then one deleted
    assert await summary(TENANT, "test") == {"apple": 0, "google": 0}
    assert await summary(uuid.uuid4(), "live") == {"apple": 0, "google": 0}
