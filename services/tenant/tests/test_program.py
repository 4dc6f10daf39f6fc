"""The program: who may change it, what each change publishes, and what bad input answers."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
from litestar.testing import AsyncTestClient
from nujoomy_contracts import decode_data, decode_envelope
from nujoomy_contracts.tenant import PROGRAM_UPDATED, Program
from nujoomy_messaging import OutboxRelay, Topology
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from tenant_helpers import Business, bearer, clear_outbox, login, outbox_events, owner_headers, staff_session

Client = AsyncTestClient  # type: ignore[type-arg]


async def test_a_program_change_publishes_exactly_one_event_per_mode_with_the_new_version(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    version = (await client.get("/internal/v1/program", headers=headers)).json()["version"]
    await clear_outbox(db_url)

    response = await client.patch(
        "/internal/v1/program",
        json={"earn_rule": {"points_per_unit": 3}, "wording": {"balance_label": "Beans"}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version + 1

    events = await outbox_events(db_url)
    assert [(e["type"], e["mode"]) for e in events] == [(PROGRAM_UPDATED, "live"), (PROGRAM_UPDATED, "test")]
    for event in events:
        assert event["tenant_id"] == str(acme.tenant_id)
        assert event["data"]["version"] == version + 1
        assert event["data"]["earn_rule"]["points_per_unit"] == 3
        assert event["data"]["wording"]["balance_label"] == "Beans"
        assert event["data"]["tenant"]["slug"] == "acme"


async def test_rewards_and_branding_changes_are_program_versions_too(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    start = (await client.get("/internal/v1/program", headers=headers)).json()
    await clear_outbox(db_url)

    reward = await client.post(
        "/internal/v1/rewards", json={"name": "Free coffee", "cost": 10}, headers=headers
    )
    assert reward.status_code == 201, reward.text
    reward_id = reward.json()["id"]
    assert reward_id.startswith("rwd_")
    edited = await client.patch(f"/internal/v1/rewards/{reward_id}", json={"cost": 12}, headers=headers)
    assert edited.json()["cost"] == 12
    branded = await client.patch(
        "/internal/v1/branding", json={"background_color": "#102030"}, headers=headers
    )
    assert branded.status_code == 200
    deleted = await client.delete(f"/internal/v1/rewards/{reward_id}", headers=headers)
    assert deleted.status_code == 204

    events = await outbox_events(db_url, PROGRAM_UPDATED)
    versions = [(e["data"]["version"], e["mode"]) for e in events]
    expected = start["version"]
    assert versions == [(expected + n, mode) for n in (1, 2, 3, 4) for mode in ("live", "test")]
    by_version = {e["data"]["version"]: e["data"] for e in events}
    assert [r["cost"] for r in by_version[expected + 1]["rewards"]] == [10]
    assert [r["cost"] for r in by_version[expected + 2]["rewards"]] == [12]
    assert by_version[expected + 2]["branding"]["version"] == start["branding"]["version"]
    # Colours changed: a new branding version, which renderers key their caches on.
    assert by_version[expected + 3]["branding"]["background_color"] == "#102030"
    assert by_version[expected + 3]["branding"]["version"] != start["branding"]["version"]
    assert by_version[expected + 4]["rewards"] == []


async def test_a_change_that_changes_nothing_publishes_nothing(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    await clear_outbox(db_url)
    assert (await client.patch("/internal/v1/program", json={}, headers=headers)).status_code == 200
    assert await outbox_events(db_url) == []


async def test_concurrent_edits_get_distinct_consecutive_versions(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    start = (await client.get("/internal/v1/program", headers=headers)).json()["version"]
    await clear_outbox(db_url)
    results = await asyncio.gather(
        *(
            client.post("/internal/v1/rewards", json={"name": f"R{i}", "cost": i + 1}, headers=headers)
            for i in range(5)
        )
    )
    assert all(r.status_code == 201 for r in results)
    versions = sorted(e["data"]["version"] for e in await outbox_events(db_url) if e["mode"] == "live")
    assert versions == list(range(start + 1, start + 6))


async def test_the_events_reach_the_broker_through_the_relay(
    client: Client, acme: Business, db_url: str, amqp_url: str, topology: Topology
) -> None:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    queue = await topology.declare_consumer(channel, "probe", ["tenant.#"])
    relay = OutboxRelay(database_url=db_url, amqp_url=amqp_url, topology=topology, poll_interval=0.2)
    task = asyncio.create_task(relay.run())
    received: list[Any] = []
    try:
        headers = await owner_headers(client, acme)
        await client.patch("/internal/v1/program", json={"type": "stamps"}, headers=headers)

        async def drain() -> list[Any]:
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                received.append(decode_envelope(message.body))
            return received

        def has_stamps(items: list[Any]) -> bool:
            return sum(1 for e in items if e.type == PROGRAM_UPDATED and b'"stamps"' in bytes(e.data)) == 2

        await eventually(drain, has_stamps, timeout=15)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 15)
        await connection.close()
    stamps = [e for e in received if e.type == PROGRAM_UPDATED and b'"stamps"' in bytes(e.data)]
    assert sorted(e.mode for e in stamps) == ["live", "test"]
    program = decode_data(PROGRAM_UPDATED, 1, stamps[0].data)
    assert isinstance(program, Program)
    assert program.type == "stamps"
    # Creating the tenant published tenant.created and staff.created once per mode as well.
    assert sorted(e.mode for e in received if e.type == "tenant.tenant.created") == ["live", "test"]
    assert sorted(e.mode for e in received if e.type == "tenant.staff.created") == ["live", "test"]


async def test_who_may_change_what(client: Client, acme: Business, tokens: TestTokens) -> None:
    owner = await login(client, "acme", acme.owner_email)
    manager = await staff_session(client, owner["access_token"], "acme", "manager")
    staff = await staff_session(client, owner["access_token"], "acme", "staff")
    internal = bearer(tokens.internal(acme.tenant_id, to="tenant"))
    change = {"wording": {"terms": "Be nice"}}

    assert (
        await client.patch("/internal/v1/program", json=change, headers=bearer(staff["access_token"]))
    ).status_code == 403
    assert (
        await client.patch("/internal/v1/program", json=change, headers=bearer(manager["access_token"]))
    ).status_code == 200
    # The program is a manager's (as its dashboard page) and the partner API's (program:read); the
    # tenant's own facts are for everyone signed in.
    for headers in (bearer(manager["access_token"]), internal):
        assert (await client.get("/internal/v1/program", headers=headers)).json()["wording"][
            "terms"
        ] == "Be nice"
    for headers in (bearer(staff["access_token"]), internal):
        assert (await client.get("/internal/v1/tenant", headers=headers)).json()["slug"] == "acme"
    assert (
        await client.get("/internal/v1/program", headers=bearer(staff["access_token"]))
    ).status_code == 403
    # Staff management and tenant facts are the owner's.
    invite = {"email": "x@acme.test", "role": "staff"}
    assert (
        await client.post("/internal/v1/staff", json=invite, headers=bearer(manager["access_token"]))
    ).status_code == 403
    rename = {"name": "Acme Coffee"}
    assert (
        await client.patch("/internal/v1/tenant", json=rename, headers=bearer(manager["access_token"]))
    ).status_code == 403
    assert (
        await client.patch("/internal/v1/tenant", json=rename, headers=bearer(owner["access_token"]))
    ).json()["name"] == "Acme Coffee"
    assert (await client.get("/internal/v1/program")).status_code == 401


async def test_a_tenant_change_publishes_tenant_updated_and_a_program_version(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    await clear_outbox(db_url)
    response = await client.patch(
        "/internal/v1/tenant", json={"name": "Acme Roasters", "currency": "chf"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["currency"] == "CHF"
    events = await outbox_events(db_url)
    assert sorted((e["type"], e["mode"]) for e in events) == [
        ("tenant.program.updated", "live"),
        ("tenant.program.updated", "test"),
        ("tenant.tenant.updated", "live"),
        ("tenant.tenant.updated", "test"),
    ]
    program = next(e["data"] for e in events if e["type"] == PROGRAM_UPDATED)
    assert program["currency"] == "CHF"
    assert program["tenant"]["name"] == "Acme Roasters"


async def test_tokens_not_signed_by_this_service_are_refused(
    client: Client, acme: Business, tokens: TestTokens
) -> None:
    forged = tokens.staff(acme.tenant_id, role="owner")  # right claims, a key the JWKS does not hold
    response = await client.get("/internal/v1/program", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_the_tenants_country_is_set_checked_and_published_for_phone_numbers(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    bad = await client.patch("/internal/v1/tenant", json={"country": "France"}, headers=headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_country")
    await clear_outbox(db_url)
    response = await client.patch("/internal/v1/tenant", json={"country": "ae"}, headers=headers)
    assert response.json()["country"] == "AE"
    events = await outbox_events(db_url)
    program = next(e["data"] for e in events if e["type"] == PROGRAM_UPDATED)
    assert program["tenant"]["country"] == "AE"  # the ledger reads customers' local numbers in it


async def test_the_earn_maximum_is_a_program_rule_published_to_the_ledger(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    assert (await client.get("/internal/v1/program", headers=headers)).json()["earn_rule"][
        "max_per_transaction"
    ] is None  # the ledger's default for the program type
    await clear_outbox(db_url)
    response = await client.patch(
        "/internal/v1/program", json={"earn_rule": {"max_per_transaction": 300}}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert [e["data"]["earn_rule"]["max_per_transaction"] for e in await outbox_events(db_url)] == [300, 300]
    for bad in (0, 1_000_001):
        refused = await client.patch(
            "/internal/v1/program", json={"earn_rule": {"max_per_transaction": bad}}, headers=headers
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_program"), bad
    back = await client.patch(
        "/internal/v1/program", json={"earn_rule": {"max_per_transaction": None}}, headers=headers
    )
    assert back.json()["earn_rule"]["max_per_transaction"] is None
