"""`make up` from a clean clone brings all five services to ready, and `nujoomy dev down` stops them.

The test clones the repository's HEAD into a temporary directory and runs what `scripts/up.sh` runs
there (minus starting the infrastructure, which the test fixtures already reach): `uv sync --locked`,
then `uv run nujoomy dev up --detach`. Everything a developer's own running stack could collide with
is moved aside through the settings' environment variables: each service's port (free ports) and
database (fresh, uniquely named, dropped afterwards), the sibling URLs, the events exchange and queue
prefix (this test session's, deleted at session end), the Redis key prefix, the dev directory and
the ports of the local fakes (`NUJOOMY_DEV_FAKE_*`), so it passes beside a developer's `make up`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from nujoomy_kit.db import plain_url, with_database
from nujoomy_messaging.topology import Topology
from nujoomy_testing import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("make_up"), pytest.mark.timeout(900)]

SIBLING_URL_VARS = {
    "partner-gateway": ("NUJOOMY_GATEWAY_URL", "NUJOOMY_PUBLIC_URL"),
    "tenant": ("NUJOOMY_TENANT_URL",),
    "ledger": ("NUJOOMY_LEDGER_URL",),
    "wallet-pass": ("NUJOOMY_WALLET_PASS_URL", "NUJOOMY_WALLET_PASS_PUBLIC_URL"),
    "notification": ("NUJOOMY_NOTIFICATION_URL",),
}
READY_TIMEOUT = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def processes_under(directory: Path) -> list[int]:
    """Pids of processes whose working directory is inside `directory` (the clone): everything the
    test's `dev up` started, and nothing else."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if Path(os.readlink(entry / "cwd")).is_relative_to(directory):
                pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = Path(__file__).resolve().parents[1]
    target = tmp_path_factory.mktemp("make_up") / "nujoomy"
    subprocess.run(["git", "clone", "--quiet", str(root), str(target)], check=True, timeout=120)
    yield target
    for pid in processes_under(target):  # only if `dev down` did not stop them all
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(target.parent, ignore_errors=True)  # the clone and its .venv: ~0.7 GB


@pytest.fixture
async def databases(pg_url: str) -> AsyncIterator[dict[str, str]]:
    """Unique database URLs per service; `dev up` creates and migrates them, the test drops them."""
    tag = uuid.uuid4().hex[:8]
    names = {s: f"e2e_up_{tag}_{s.replace('-', '_')}" for s in SIBLING_URL_VARS}
    yield {s: with_database(pg_url, n) for s, n in names.items()}
    conn = await asyncpg.connect(plain_url(pg_url))
    try:
        for name in names.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


FAKE_PORTS = ("SMTP", "MAIL", "SMS", "APNS", "APNS_CONTROL", "GOOGLE")

EXTRA_PROCESSES = """
import json
from urllib.parse import urlparse
from nujoomy_cli.main import build_parser
_, registry = build_parser()
print(json.dumps({p.name: urlparse(p.ready_url).port for p in registry.processes if p.ready_url}))
"""


def stack_env(
    clone: Path,
    databases: dict[str, str],
    ports: dict[str, int],
    topology: Topology,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
) -> dict[str, str]:
    # Nothing from the developer's shell or the outer `uv run` leaks in: no NUJOOMY_* settings, and
    # no VIRTUAL_ENV (the clone must use its own .venv, made by its own `uv sync --locked`).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NUJOOMY_", "UV_PROJECT_ENVIRONMENT", "PYTEST_")) and k != "VIRTUAL_ENV"
    }
    env.update(
        NUJOOMY_DEV_DIR=str(clone / ".dev"),
        NUJOOMY_AMQP_URL=amqp_url,
        NUJOOMY_REDIS_URL=redis_url,
        NUJOOMY_REDIS_PREFIX=redis_prefix,
        NUJOOMY_EVENTS_EXCHANGE=topology.exchange,
        NUJOOMY_QUEUE_PREFIX=topology.prefix,
    )
    for fake in FAKE_PORTS:
        env[f"NUJOOMY_DEV_FAKE_{fake}_PORT"] = str(free_port())
    for service, port in ports.items():
        key = service.upper().replace("-", "_")
        env[f"NUJOOMY_{key}_PORT"] = str(port)
        env[f"NUJOOMY_{key}_DATABASE_URL"] = databases[service]
        for var in SIBLING_URL_VARS[service]:
            env[var] = f"http://127.0.0.1:{port}"
    return env


async def test_make_up_from_a_clean_clone_brings_every_service_to_ready(
    clone: Path,
    databases: dict[str, str],
    topology: Topology,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
) -> None:
    ports = {service: free_port() for service in SIBLING_URL_VARS}
    assert len(set(ports.values())) == len(ports)
    env = stack_env(clone, databases, ports, topology, amqp_url, redis_url, redis_prefix)

    synced = run(["uv", "sync", "--locked"], clone, env, timeout=600)
    assert synced.returncode == 0, synced.stderr[-3000:]

    # The local fakes that services register (`registry.add_process`) listen where NUJOOMY_DEV_FAKE_*
    # says: free ports here, never the ones a developer's running `make up` holds.
    extras = run(["uv", "run", "python", "-c", EXTRA_PROCESSES], clone, env, timeout=120)
    assert extras.returncode == 0, extras.stderr[-3000:]
    fakes: dict[str, int] = json.loads(extras.stdout.splitlines()[-1])
    moved = {int(env[f"NUJOOMY_DEV_FAKE_{fake}_PORT"]) for fake in FAKE_PORTS}
    assert set(fakes.values()) <= moved, f"a dev fake ignores its port setting: {fakes}"

    up = run(
        ["uv", "run", "nujoomy", "dev", "up", "--detach", "--timeout", str(READY_TIMEOUT)],
        clone,
        env,
        timeout=READY_TIMEOUT + 120,
    )
    log = clone / ".dev" / "logs" / "up.log"
    try:
        assert up.returncode == 0, (
            f"{up.stdout}\n{up.stderr}\n{log.read_text()[-5000:] if log.exists() else ''}"
        )
        assert "Nujoomy is up." in up.stdout
        async with httpx.AsyncClient(timeout=5) as client:
            for service, port in ports.items():
                response = await client.get(f"http://127.0.0.1:{port}/health/ready")
                assert response.status_code == 200, (service, response.text)
                assert response.json()["status"] == "ok"
        status = run(["uv", "run", "nujoomy", "status"], clone, env, timeout=120)
        assert status.returncode == 0, status.stdout + status.stderr
        for service, port in ports.items():
            assert f"http://127.0.0.1:{port}" in status.stdout, service
    finally:
        down = run(["uv", "run", "nujoomy", "dev", "down"], clone, env, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (clone / ".dev" / "up.pid").exists()

    async def open_ports() -> list[int]:  # the services' and the fakes' alike
        return [p for p in [*ports.values(), *fakes.values()] if listening(p)]

    await eventually(open_ports, lambda still: not still, timeout=30)
    # And no process of that run is left behind (the apps, the workers and the supervisor).
    assert processes_under(clone) == []
