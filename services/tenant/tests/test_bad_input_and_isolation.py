"""Every bad field answers problem+json with a stable code; another tenant's ids answer 404."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_kit.problems import DomainError
from nujoomy_tenant import provisioning
from nujoomy_testing.tokens import TestTokens
from tenant_helpers import Business, bearer, clear_outbox, outbox_events, owner_headers

Client = AsyncTestClient  # type: ignore[type-arg]


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    return body


BAD_FIELDS = [
    ("/internal/v1/branding", "patch", {"background_color": "red"}, 422, "invalid_color"),
    ("/internal/v1/branding", "patch", {"label_color": "#12345"}, 422, "invalid_color"),
    ("/internal/v1/branding", "patch", {"foreground_color": "#GGGGGG"}, 422, "invalid_color"),
    ("/internal/v1/tenant", "patch", {"currency": "EUX"}, 422, "unknown_currency"),
    ("/internal/v1/tenant", "patch", {"timezone": "Mars/Olympus"}, 422, "invalid_timezone"),
    ("/internal/v1/tenant", "patch", {"locale": "english"}, 422, "invalid_locale"),
    ("/internal/v1/tenant", "patch", {"contact_email": "not-an-email"}, 422, "invalid_email"),
    ("/internal/v1/rewards", "post", {"name": "Free", "cost": 0}, 422, "invalid_reward_cost"),
    ("/internal/v1/rewards", "post", {"name": "Free", "cost": -5}, 422, "invalid_reward_cost"),
    ("/internal/v1/rewards", "post", {"name": "", "cost": 5}, 422, "invalid_program"),
    (
        "/internal/v1/rewards",
        "post",
        {"name": "X", "cost": 5, "limit_per_day": 0},
        422,
        "invalid_program",
    ),
    (
        "/internal/v1/rewards",
        "post",
        {
            "name": "X",
            "cost": 5,
            "active_from": "2027-01-02T00:00:00Z",
            "active_until": "2027-01-01T00:00:00Z",
        },
        422,
        "invalid_program",
    ),
    ("/internal/v1/rewards", "post", {"name": "X", "cost": "five"}, 422, "invalid_input"),
    ("/internal/v1/program", "patch", {"type": "miles"}, 422, "invalid_program"),
    ("/internal/v1/program", "patch", {"earn_rule": {"points_per_unit": 0}}, 422, "invalid_program"),
    ("/internal/v1/program", "patch", {"earn_rule": {"minimum_spend": "ten"}}, 422, "invalid_program"),
    ("/internal/v1/program", "patch", {"expiry": {"kind": "months_after_earn"}}, 422, "invalid_program"),
    (
        "/internal/v1/program",
        "patch",
        {"expiry": {"kind": "sometimes", "months": 3}},
        422,
        "invalid_program",
    ),
    ("/internal/v1/staff", "post", {"email": "nope", "role": "staff"}, 422, "invalid_email"),
    ("/internal/v1/staff", "post", {"email": "a@b.test", "role": "king"}, 422, "invalid_input"),
    ("/internal/v1/locations", "post", {"name": " "}, 422, "invalid_program"),
]


async def test_bad_fields_are_named_problems(client: Client, acme: Business, db_url: str) -> None:
    # One database for all the cases (a clone per case costs more than every request here together).
    headers = await owner_headers(client, acme)
    await clear_outbox(db_url)
    for path, method, body, status, code in BAD_FIELDS:
        response = await getattr(client, method)(path, json=body, headers=headers)
        problem = assert_problem(response, status, code)
        # Our own rules name the field; msgspec's type errors list it under `errors`.
        assert problem.get("field") or problem["errors"][0]["key"], (path, body)
    # Nothing was half-applied: no event left the building for any of them.
    assert await outbox_events(db_url) == []


async def test_a_taken_email_is_a_conflict(client: Client, acme: Business) -> None:
    headers = await owner_headers(client, acme)
    response = await client.post(
        "/internal/v1/staff", json={"email": acme.owner_email, "role": "staff"}, headers=headers
    )
    assert_problem(response, 409, "email_taken")


async def test_slugs_are_url_safe_and_unique(db_url: str, acme: Business) -> None:
    cases = [
        ("acme", "slug_taken"),
        ("Acme!", "invalid_slug"),
        ("a", "invalid_slug"),
        ("app", "invalid_slug"),
    ]
    cases += [("-x-", "invalid_slug"), ("a--b", "invalid_slug")]
    engine = make_engine(db_url, pool_size=1)
    try:
        for slug, code in cases:
            with pytest.raises(DomainError) as caught:
                async with transaction(make_sessionmaker(engine)) as db:
                    await provisioning.create_tenant(
                        db, provisioning.NewTenant(slug=slug, name="X", owner_email="o@x.test"), invite_ttl=60
                    )
            assert caught.value.code == code, slug
    finally:
        await engine.dispose()


async def test_unknown_currency_at_creation(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=1)
    try:
        with pytest.raises(DomainError) as caught:
            async with transaction(make_sessionmaker(engine)) as db:
                await provisioning.create_tenant(
                    db,
                    provisioning.NewTenant(slug="newco", name="X", owner_email="o@x.test", currency="XYZ"),
                    invite_ttl=60,
                )
    finally:
        await engine.dispose()
    assert caught.value.code == "unknown_currency"


async def test_another_tenants_ids_answer_404_like_missing_ones(
    client: Client, acme: Business, globex: Business, tokens: TestTokens
) -> None:
    acme_headers = await owner_headers(client, acme)
    globex_headers = await owner_headers(client, globex)
    reward = (
        await client.post("/internal/v1/rewards", json={"name": "G", "cost": 5}, headers=globex_headers)
    ).json()
    location = (
        await client.post("/internal/v1/locations", json={"name": "Globex HQ"}, headers=globex_headers)
    ).json()
    globex_staff = (await client.get("/internal/v1/staff", headers=globex_headers)).json()["data"][0]

    attempts = [
        ("get", f"/internal/v1/rewards/{reward['id']}", None),
        ("patch", f"/internal/v1/rewards/{reward['id']}", {"cost": 1}),
        ("delete", f"/internal/v1/rewards/{reward['id']}", None),
        ("get", f"/internal/v1/locations/{location['id']}", None),
        ("patch", f"/internal/v1/locations/{location['id']}", {"name": "Mine now"}),
        ("delete", f"/internal/v1/locations/{location['id']}", None),
        ("patch", f"/internal/v1/staff/{globex_staff['id']}", {"disabled": True}),
        ("post", f"/internal/v1/staff/{globex_staff['id']}/reset", None),
        ("get", "/internal/v1/rewards/rwd_0000000000000000000000", None),
        ("get", "/internal/v1/rewards/not-an-id", None),
        ("get", f"/internal/v1/rewards/{location['id']}", None),  # an id of another kind
    ]
    for method, path, body in attempts:
        kwargs: dict[str, Any] = {"headers": acme_headers}
        if body is not None:
            kwargs["json"] = body
        assert_problem(await getattr(client, method)(path, **kwargs), 404, "not_found")

    # Internal tokens are bound to their tenant the same way.
    internal = bearer(tokens.internal(acme.tenant_id, to="tenant"))
    assert_problem(
        await client.get(f"/internal/v1/rewards/{reward['id']}", headers=internal), 404, "not_found"
    )
    # Nothing of Globex's changed, and Acme's lists hold none of it.
    assert (await client.get(f"/internal/v1/rewards/{reward['id']}", headers=globex_headers)).json()[
        "cost"
    ] == 5
    assert (await client.get("/internal/v1/locations", headers=acme_headers)).json()["data"] == []
    acme_program = (await client.get("/internal/v1/program", headers=acme_headers)).json()
    assert acme_program["rewards"] == []
    assert acme_program["tenant_id"] == str(acme.tenant_id)


async def test_locations_and_staff_lists_page_with_cursors(client: Client, acme: Business) -> None:
    headers = await owner_headers(client, acme)
    for i in range(5):
        await client.post(
            "/internal/v1/locations", json={"name": f"Shop {i}", "address": f"{i} Main St"}, headers=headers
        )
    first = (await client.get("/internal/v1/locations?limit=2", headers=headers)).json()
    second = (
        await client.get(f"/internal/v1/locations?limit=2&cursor={first['next_cursor']}", headers=headers)
    ).json()
    third = (
        await client.get(f"/internal/v1/locations?limit=2&cursor={second['next_cursor']}", headers=headers)
    ).json()
    names = [loc["name"] for page in (first, second, third) for loc in page["data"]]
    assert names == [f"Shop {i}" for i in range(5)]
    assert third["next_cursor"] is None
    assert_problem(
        await client.get("/internal/v1/locations?limit=500", headers=headers), 422, "invalid_input"
    )


async def test_the_join_page_sees_public_facts_only(client: Client, acme: Business) -> None:
    response = await client.get("/internal/v1/tenants/by-slug/acme")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "slug", "name", "locale", "program_type", "branding", "wording"}
    assert body["id"].startswith("ten_")
    assert body["branding"]["background_color"].startswith("#")
    assert_problem(await client.get("/internal/v1/tenants/by-slug/nobody"), 404, "not_found")
