"""compose.yaml and the Dockerfile agree with the code: every service, port, database, dependency,
health check and NUJOOMY_* variable is checked against the services' own settings, so a renamed
setting or a moved port breaks this test instead of a deployment. (Docker cannot run here.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import msgspec
import pytest
import yaml
from nujoomy_kit.db import plain_url
from nujoomy_kit.settings import COMMON_PREFIX, ServiceSettings

# The ports the foundation issue fixes; the settings defaults must say the same.
PORTS = {"partner-gateway": 8000, "tenant": 8001, "ledger": 8002, "wallet-pass": 8003, "notification": 8004}
INFRA = ("postgres", "rabbitmq", "redis")
SIBLING_FIELDS = {
    "partner-gateway": "gateway_url",
    "tenant": "tenant_url",
    "ledger": "ledger_url",
    "wallet-pass": "wallet_pass_url",
    "notification": "notification_url",
}
ROOT = Path(__file__).resolve().parents[1]
INIT_SCRIPT = "deploy/postgres/init-databases.sh"
_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def interpolate(value: str) -> str:
    """What compose would substitute with no .env file: each `${VAR:-default}` becomes its default."""
    return _VAR.sub(lambda m: m.group(2) or "", value).replace("$$", "$")


def env_of(container: dict[str, Any]) -> dict[str, str]:
    environment = container.get("environment", {})
    assert isinstance(environment, dict), "environment must be a mapping (the test reads it)"
    return {k: interpolate(str(v)) for k, v in environment.items()}


def field_names(cls: type[msgspec.Struct]) -> set[str]:
    return {f.name for f in msgspec.structs.fields(cls)}


def test_ports_in_settings_are_the_issues(services: dict[str, Any]) -> None:
    ports = {name: s.settings.Settings().port for name, s in services.items()}
    assert ports == PORTS


def test_infrastructure_has_health_checks(compose: dict[str, Any]) -> None:
    for name in INFRA:
        check = compose["services"][name]["healthcheck"]["test"]
        assert check[0] in ("CMD", "CMD-SHELL"), name
    assert "pg_isready" in " ".join(compose["services"]["postgres"]["healthcheck"]["test"])
    assert "ping" in compose["services"]["redis"]["healthcheck"]["test"]
    # The databases are made by the init script mounted into the postgres image.
    mounts = compose["services"]["postgres"]["volumes"]
    init = [m for m in mounts if "/docker-entrypoint-initdb.d/" in m]
    assert len(init) == 1
    assert (ROOT / init[0].split(":")[0]).is_file()


def test_every_service_has_migrate_api_and_worker(compose: dict[str, Any], services: dict[str, Any]) -> None:
    expected = set(INFRA)
    for s in services.values():
        expected |= {f"{s.name}-migrate", s.name, f"{s.name}-worker"}
    assert set(compose["services"]) == expected


@pytest.mark.parametrize("service_name", sorted(PORTS))
def test_service_containers_match_the_code(
    compose: dict[str, Any], services: dict[str, Any], service_name: str
) -> None:
    service = services[service_name]
    module = service.settings
    defaults = module.Settings()
    port = defaults.port
    containers = {
        role: compose["services"][n]
        for role, n in (
            ("migrate", f"{service.name}-migrate"),
            ("api", service.name),
            ("worker", f"{service.name}-worker"),
        )
    }
    for role, container in containers.items():
        # One image per service, built from the shared Dockerfile with this service's workspace member.
        build = container["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == ROOT / "deploy/docker/Dockerfile"
        assert build["args"]["SERVICE"] == service.name
        assert container["command"] == [role]
        # The settings this process would load from that environment.
        env = env_of(container)
        loaded = module.load(env=env)
        assert loaded.port == port
        assert loaded.host == "0.0.0.0", "a container must listen beyond its loopback"
        db_name = loaded.database_url.rsplit("/", 1)[1]
        assert db_name == defaults.database_url.rsplit("/", 1)[1]
        assert loaded.database_url.split("@", 1)[1] == f"postgres:5432/{db_name}"
        assert loaded.amqp_url.split("@", 1)[1] == "rabbitmq:5672/"
        assert loaded.redis_url.startswith("redis://redis:6379/")
        for sibling, field in SIBLING_FIELDS.items():
            assert getattr(loaded, field) == f"http://{sibling}:{PORTS[sibling]}", field

    migrate, api, worker = containers["migrate"], containers["api"], containers["worker"]
    assert migrate["depends_on"] == {n: {"condition": "service_healthy"} for n in INFRA}
    assert migrate["restart"] == "no"
    for container in (api, worker):
        assert container["depends_on"][f"{service.name}-migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert {k: v for k, v in container["depends_on"].items() if k in INFRA} == {
            n: {"condition": "service_healthy"} for n in INFRA
        }
        assert container["restart"] == "unless-stopped"
    assert api["ports"] == [f"{port}:{port}"]
    assert "ports" not in worker
    assert "ports" not in migrate
    check = " ".join(api["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/health/ready" in check
    # the worker's own probe listener, on the port every container is told (NUJOOMY_WORKER_HEALTH_PORT)
    health_port = worker["environment"]["NUJOOMY_WORKER_HEALTH_PORT"]
    assert f"http://127.0.0.1:{health_port}/health/ready" in " ".join(worker["healthcheck"]["test"])


def is_setting(key: str, service: Any) -> bool:
    """Whether `load_settings` reads `key` into this service's Settings (service or shared name)."""
    own_prefix = f"{COMMON_PREFIX}{service.name.upper().replace('-', '_')}_"
    if key.startswith(own_prefix) and key[len(own_prefix) :].lower() in field_names(
        service.settings.Settings
    ):
        return True
    # A shared variable must name a field every service has, or it configures nobody.
    return key.startswith(COMMON_PREFIX) and key[len(COMMON_PREFIX) :].lower() in field_names(ServiceSettings)


@pytest.mark.parametrize("service_name", sorted(PORTS))
def test_every_nujoomy_variable_is_a_real_setting(
    compose: dict[str, Any], services: dict[str, Any], service_name: str
) -> None:
    service = services[service_name]
    for role in ("-migrate", "", "-worker"):
        for key in env_of(compose["services"][f"{service.name}{role}"]):
            assert is_setting(key, service), f"{key} is not a setting of {service.name}"


@pytest.mark.parametrize("service_name", sorted(PORTS))
def test_per_service_env_file_and_its_example(
    compose: dict[str, Any], services: dict[str, Any], service_name: str
) -> None:
    service = services[service_name]
    path = f"deploy/env/{service.name}.env"
    for role in ("-migrate", "", "-worker"):
        assert compose["services"][f"{service.name}{role}"]["env_file"] == [{"path": path, "required": False}]
    example = (ROOT / f"{path}.example").read_text().splitlines()
    keys = [line.split("=", 1)[0] for line in example if line and not line.startswith("#")]
    assert keys
    for key in keys:
        assert is_setting(key, service), f"{path}.example: {key} is not a setting of {service.name}"
    # The real files hold secrets and stay out of git.
    assert "*.env" in (ROOT / "deploy/env/.gitignore").read_text().split()


def test_init_script_names_every_service_database(services: dict[str, Any]) -> None:
    script = (ROOT / INIT_SCRIPT).read_text()
    created = set(re.search(r"\$\{NUJOOMY_DATABASES:-([^}]+)\}", script).group(1).split())  # type: ignore[union-attr]
    expected = {s.settings.Settings().database_url.rsplit("/", 1)[1] for s in services.values()}
    assert created == expected
    assert os.access(ROOT / INIT_SCRIPT, os.X_OK)


async def test_init_script_creates_databases_and_can_run_again(pg_url: str) -> None:
    """The script itself, against the real PostgreSQL, on throwaway names (the postgres image runs it
    through psql on its local socket; here psql reaches the test server through PG* variables)."""
    parsed = urlparse(pg_url)
    names = [f"e2e_init_{uuid.uuid4().hex[:8]}_{i}" for i in range(2)]
    env = {
        **os.environ,
        "NUJOOMY_DATABASES": " ".join(names),
        "POSTGRES_USER": parsed.username or "postgres",
        "PGHOST": parsed.hostname or "127.0.0.1",
        "PGPORT": str(parsed.port or 5432),
        "PGPASSWORD": parsed.password or "",
    }
    conn = await asyncpg.connect(plain_url(pg_url))
    try:
        for _ in range(2):  # a second run keeps what exists instead of failing
            done = subprocess.run(
                ["sh", str(ROOT / INIT_SCRIPT)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname = ANY($1::text[])", names)
            assert sorted(r["datname"] for r in rows) == sorted(names)
    finally:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.close()


def test_dockerfile_builds_one_non_root_service_with_uv() -> None:
    text = (ROOT / "deploy/docker/Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, re.M)
    assert [name for _, name in stages] == ["builder", "runtime"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert 'pip install --no-cache-dir "uv' in text
    assert re.search(r'uv sync --locked --no-dev --package "nujoomy-\$\{SERVICE\}"', text)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user
    assert user[-1].split(":")[0] not in ("0", "root")
    assert 'exec python -m %s "$@"' in text
    assert 'nujoomy_$(echo "${SERVICE}" | tr - _)' in text


def test_service_distributions_and_entry_modules_exist(services: dict[str, Any]) -> None:
    """What the Dockerfile derives from SERVICE exists: the member `nujoomy-<service>` and the
    module `nujoomy_<service>` answering api|worker|migrate."""
    for s in services.values():
        assert s.name == s.settings.SERVICE
        assert s.distribution == f"nujoomy-{s.name}"
        assert s.package == f"nujoomy_{s.name.replace('-', '_')}"
        assert s.directory == ROOT / "services" / s.name
        out = subprocess.run(
            [sys.executable, "-m", s.package, "--help"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        assert "{api,worker,migrate}" in out, out
        assert (Path(s.directory) / "migrations").is_dir()
