"""`nujoomy tenant …` and `nujoomy demo`, run through the real CLI entry point against a test database."""

from __future__ import annotations

import asyncio
import re

import pytest
from litestar.testing import AsyncTestClient
from nujoomy_cli.main import build_parser
from nujoomy_contracts.tenant import PROGRAM_UPDATED
from nujoomy_tenant import cli, demo
from nujoomy_tenant.settings import Settings
from tenant_helpers import Business, bearer, login, outbox_events

Client = AsyncTestClient  # type: ignore[type-arg]


def run_cli(argv: list[str], settings: Settings, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("NUJOOMY_TENANT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NUJOOMY_PUBLIC_URL", settings.public_url)
    monkeypatch.setenv("NUJOOMY_TENANT_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("NUJOOMY_TENANT_ARGON2_MEMORY_KIB", "1024")
    parser, _ = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


async def test_tenant_create_prints_a_one_time_password_link_that_works(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["tenant", "create", "--slug", "bean-bar", "--name", "Bean Bar", "--owner-email", "Boss@Bean.test"]
    # The CLI runs its own event loop (asyncio.run), so it goes to a worker thread here.
    code = await asyncio.to_thread(run_cli, argv, settings, monkeypatch)
    out = capsys.readouterr().out
    assert code == 0, out
    match = re.search(r"https://loyalty\.example/app/password\?token=(\S+)", out)
    assert match, out
    done = await client.post("/auth/password", json={"token": match.group(1), "password": "boss password 1"})
    assert done.status_code == 200
    session = await login(client, "bean-bar", "boss@bean.test", "boss password 1")
    assert session["staff"]["role"] == "owner"
    assert session["tenant"]["name"] == "Bean Bar"

    again = await asyncio.to_thread(run_cli, argv, settings, monkeypatch)
    assert again == 1
    assert "slug_taken" in capsys.readouterr().out


async def test_demo_seeds_once_with_known_logins(client: Client, settings: Settings, db_url: str) -> None:
    first = await cli.seed_demo(settings)
    assert first[0] == "Seeded the demo tenant."
    assert await cli.seed_demo(settings) == ["The demo tenant is there already.", *first[1:]]

    owner = await login(client, "demo", *demo.OWNER)
    staff = await login(client, "demo", *demo.STAFF)
    assert owner["staff"]["role"] == "owner"
    assert staff["staff"]["role"] == "staff"
    program = (await client.get("/internal/v1/program", headers=bearer(owner["access_token"]))).json()
    assert owner["tenant"]["name"] == "Demo Café"
    assert program["type"] == "points"
    assert program["earn_rule"]["points_per_unit"] == 1
    assert program["currency"] == "EUR"
    assert len(program["rewards"]) == 3
    # The last event per mode carries the three rewards, so projections start complete.
    last = {e["mode"]: e["data"] for e in await outbox_events(db_url, PROGRAM_UPDATED)}
    assert {m: len(d["rewards"]) for m, d in last.items()} == {"live": 3, "test": 3}


async def test_make_up_seeds_the_demo_only_into_an_empty_database(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "NUJOOMY_TENANT_DATABASE_URL": settings.database_url,
        "NUJOOMY_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    banner = await cli.after_start(env)
    text = "\n".join(banner)
    assert "http://127.0.0.1:8000/app" in text
    assert demo.OWNER[0] in text
    assert demo.OWNER[1] in text
    assert demo.STAFF[0] in text

    _, registry = build_parser()
    assert cli.after_start in registry.after_start_hooks
    assert "tenant" in registry.services


async def test_suspend_and_activate_through_the_cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await cli.seed_demo(settings)
    assert (
        await asyncio.to_thread(run_cli, ["tenant", "suspend", "--slug", "demo"], settings, monkeypatch) == 0
    )
    assert "demo is now suspended." in capsys.readouterr().out
    assert (
        await asyncio.to_thread(run_cli, ["tenant", "activate", "--slug", "demo"], settings, monkeypatch) == 0
    )
    assert (
        await asyncio.to_thread(run_cli, ["tenant", "suspend", "--slug", "nobody"], settings, monkeypatch)
        == 1
    )


async def test_make_up_leaves_a_database_with_tenants_alone(
    client: Client, settings: Settings, acme: Business
) -> None:
    await cli.after_start({"NUJOOMY_TENANT_DATABASE_URL": settings.database_url})
    assert (await client.get("/internal/v1/tenants/by-slug/demo")).status_code == 404
