"""Where the real PostgreSQL, RabbitMQ and Redis are.

Environment first (`NUJOOMY_TEST_POSTGRES_URL`, `NUJOOMY_TEST_AMQP_URL`, `NUJOOMY_TEST_REDIS_URL`),
then the machine's local servers on their default loopback ports, then — only where a Docker engine
answers — testcontainers. If none answers, the test fails and says which one is missing: an
integration test that quietly skips proves nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from urllib.parse import urlparse

DEFAULTS = {
    "postgres": ("NUJOOMY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    "amqp": ("NUJOOMY_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    "redis": ("NUJOOMY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
}


class ServiceUnavailable(RuntimeError):
    pass


def _answers(url: str) -> bool:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or {"postgresql": 5432, "amqp": 5672, "redis": 6379}.get(parsed.scheme, 0)
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


_containers: list[object] = []


def _from_container(kind: str) -> str:
    if kind == "postgres":
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer(
            "postgres:16-alpine", username="postgres", password="postgres", dbname="postgres"
        )
        pg.start()
        _containers.append(pg)
        return f"postgresql://postgres:postgres@{pg.get_container_host_ip()}:{pg.get_exposed_port(5432)}/postgres"
    if kind == "amqp":
        from testcontainers.rabbitmq import RabbitMqContainer

        rmq = RabbitMqContainer("rabbitmq:3.13-alpine")
        rmq.start()
        _containers.append(rmq)
        return f"amqp://guest:guest@{rmq.get_container_host_ip()}:{rmq.get_exposed_port(5672)}/"
    from testcontainers.redis import RedisContainer

    redis = RedisContainer("redis:7-alpine")
    redis.start()
    _containers.append(redis)
    return f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"


def resolve(kind: str, answers: Callable[[str], bool] = _answers) -> str:
    env_name, default = DEFAULTS[kind]
    url = os.environ.get(env_name, default)
    if answers(url):
        return url
    if _docker_answers():
        return _from_container(kind)
    raise ServiceUnavailable(
        f"{kind} is not answering at {url} and no Docker engine is available. "
        f"Start it (see .ci/services.sh) or set {env_name}."
    )


def stop_containers() -> None:
    while _containers:
        container = _containers.pop()
        stop = getattr(container, "stop", None)
        if stop is not None:
            stop()
