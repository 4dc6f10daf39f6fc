"""Editing and archiving what the dashboard manages: rewards and locations change in place, an
archived location leaves the list but is kept for what was recorded there, bad input is a problem."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient
from nujoomy_contracts.tenant import PROGRAM_UPDATED
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import decode_id
from tenant_helpers import Business, clear_outbox, outbox_events, owner_headers

Client = AsyncTestClient  # type: ignore[type-arg]


async def test_an_archived_location_leaves_the_list_and_is_kept_for_its_history(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    shop = (await client.post("/internal/v1/locations", json={"name": "Old shop"}, headers=headers)).json()
    kept = (await client.post("/internal/v1/locations", json={"name": "New shop"}, headers=headers)).json()
    edited = await client.patch(
        f"/internal/v1/locations/{shop['id']}", json={"address": "1 Quay"}, headers=headers
    )
    assert edited.json()["address"] == "1 Quay"

    assert (await client.delete(f"/internal/v1/locations/{shop['id']}", headers=headers)).status_code == 204
    listed = (await client.get("/internal/v1/locations", headers=headers)).json()["data"]
    assert [loc["id"] for loc in listed] == [kept["id"]]
    for method, body in (("get", None), ("patch", {"name": "Back"}), ("delete", None)):
        answer = await client.request(
            method.upper(), f"/internal/v1/locations/{shop['id']}", json=body, headers=headers
        )
        assert answer.status_code == 404, (method, answer.text)
        assert answer.json()["code"] == "not_found"

    conn = await asyncpg.connect(plain_url(db_url))
    try:
        row = await conn.fetchrow(
            "SELECT name, archived_at FROM locations WHERE id = $1", decode_id("loc", shop["id"])
        )
    finally:
        await conn.close()
    assert row is not None, "archived, not deleted"
    assert row["name"] == "Old shop"
    assert row["archived_at"] is not None


async def test_a_reward_edit_is_a_program_version_and_bad_values_are_problems(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    reward = (
        await client.post("/internal/v1/rewards", json={"name": "Tea", "cost": 5}, headers=headers)
    ).json()
    await clear_outbox(db_url)
    edited = await client.patch(
        f"/internal/v1/rewards/{reward['id']}", json={"name": "Green tea", "cost": 6}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["name"], edited.json()["cost"]) == ("Green tea", 6)
    events = await outbox_events(db_url, PROGRAM_UPDATED)
    assert [e["data"]["rewards"][0]["name"] for e in events] == ["Green tea", "Green tea"]

    for body, code in (({"cost": 0}, "invalid_reward_cost"), ({"name": "  "}, "invalid_program")):
        refused = await client.patch(f"/internal/v1/rewards/{reward['id']}", json=body, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["code"] == code
    assert (await client.delete(f"/internal/v1/rewards/{reward['id']}", headers=headers)).status_code == 204
    assert (await client.get("/internal/v1/program", headers=headers)).json()["rewards"] == []
