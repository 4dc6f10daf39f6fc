"""The operator CLI: keys create/list/revoke/roll and webhook deliveries list/replay, on a real database."""

from __future__ import annotations

import uuid

import pytest
from nujoomy_cli.main import main
from nujoomy_kit.ids import encode_id
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing import eventually

from .conftest import Client, bearer


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The CLI reads its settings from the environment, like every `nujoomy` command.
    monkeypatch.setenv("NUJOOMY_PARTNER_GATEWAY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NUJOOMY_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("NUJOOMY_REDIS_PREFIX", settings.redis_prefix)
    return settings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


async def test_keys_from_the_cli_work_on_the_api_and_die_on_revoke(
    client: Client, cli_env: Settings, tenant: uuid.UUID, capsys: pytest.CaptureFixture[str]
) -> None:
    ten = encode_id("ten", tenant)
    out = await _in_thread(run, capsys, "keys", "create", "--tenant", ten, "--mode", "test", "--name", "till")
    key_id, secret = out.split()[0], out.strip().rsplit(" ", 1)[1]
    assert secret.startswith("nj_test_")
    assert (await client.get("/v1/events", headers=bearer(secret))).status_code == 200
    listed = await _in_thread(run, capsys, "keys", "list", "--tenant", str(tenant), "--mode", "test")
    assert key_id in listed
    assert secret not in listed
    rolled = await _in_thread(
        run, capsys, "keys", "roll", key_id, "--tenant", ten, "--mode", "test", "--grace-seconds", "0"
    )
    new_secret = rolled.strip().rsplit(" ", 1)[1]
    assert (await client.get("/v1/events", headers=bearer(new_secret))).status_code == 200

    async def old_status() -> int:
        return (await client.get("/v1/events", headers=bearer(secret))).status_code

    await eventually(old_status, lambda s: s == 401, timeout=1)
    new_id = rolled.split()[0]
    await _in_thread(run, capsys, "keys", "revoke", new_id, "--tenant", ten, "--mode", "test")

    async def status() -> int:
        return (await client.get("/v1/events", headers=bearer(new_secret))).status_code

    await eventually(status, lambda s: s == 401, timeout=1)


async def test_deliveries_are_listed_and_replayed_from_the_cli(
    client: Client, cli_env: Settings, tenant: uuid.UUID, capsys: pytest.CaptureFixture[str], make_key: object
) -> None:
    key = await make_key("test")  # type: ignore[operator]
    endpoint = (
        await client.post("/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/h"}, headers=bearer(key))
    ).json()
    sent = (await client.post(f"/v1/webhook_endpoints/{endpoint['id']}/test", headers=bearer(key))).json()
    listed = await _in_thread(
        run, capsys, "webhooks", "deliveries", "list", "--tenant", str(tenant), "--mode", "test"
    )
    assert sent["id"] in listed
    assert "test.ping" in listed
    replayed = await _in_thread(
        run,
        capsys,
        "webhooks",
        "deliveries",
        "replay",
        "--tenant",
        str(tenant),
        "--mode",
        "test",
        "--delivery",
        sent["id"],
    )
    assert "scheduled 1" in replayed
    other_plane = await _in_thread(
        run, capsys, "webhooks", "deliveries", "list", "--tenant", str(tenant), "--mode", "live"
    )
    assert sent["id"] not in other_plane


async def test_limits_are_set_by_the_operator_from_the_cli(
    client: Client, cli_env: Settings, tenant: uuid.UUID, capsys: pytest.CaptureFixture[str], make_key: object
) -> None:
    key = await make_key("test")  # type: ignore[operator]
    first = await client.get("/v1/events", headers=bearer(key))  # now in the replica's cache
    assert first.headers["ratelimit-policy"] == '"key";q=26;w=2, "tenant";q=51;w=2'
    ten = encode_id("ten", tenant)
    listed = await _in_thread(run, capsys, "keys", "list", "--tenant", ten, "--mode", "test")
    key_id = next(w for w in listed.split() if w.startswith("key_"))
    out = await _in_thread(
        run,
        capsys,
        "keys",
        "limits",
        key_id,
        "--tenant",
        ten,
        "--mode",
        "test",
        "--rate",
        "2",
        "--burst",
        "3",
    )
    assert "rate=2.0" in out
    out = await _in_thread(
        run, capsys, "keys", "tenant-limits", "--tenant", ten, "--mode", "test", "--rate", "1", "--burst", "1"
    )
    assert "max_keys=20" in out

    async def policy() -> str:
        return (await client.get("/v1/events", headers=bearer(key))).headers["ratelimit-policy"]

    # announced like a revoke: the running replica reloads the key at once
    await eventually(policy, lambda p: p == '"key";q=4;w=2, "tenant";q=2;w=2', timeout=1)
    shown = await _in_thread(
        run, capsys, "keys", "tenant-limits", "--tenant", ten, "--mode", "test", "--show"
    )
    assert "rate=1.0" in shown
    with pytest.raises(SystemExit):
        main(["keys", "limits", key_id, "--tenant", ten, "--mode", "test", "--rate", "20000"])


async def _in_thread(fn: object, *args: object) -> str:
    import asyncio

    # The CLI runs its own event loop (asyncio.run), so it cannot run on the test's.
    return await asyncio.to_thread(fn, *args)  # type: ignore[arg-type]
