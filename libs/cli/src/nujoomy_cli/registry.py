"""What the services tell the CLI about themselves when they register their subcommands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec


class ServiceInfo(msgspec.Struct):
    name: str
    package: str
    url: str
    database_url: str
    migrations: str  # "module:ATTRIBUTE" naming the alembic directory
    consumers: tuple[str, ...] = ()
    # Further settings Structs the service reads under their own prefix: (scope, "module:Struct"),
    # e.g. ("web", "…bff.config:WebSettings") for NUJOOMY_WEB_*; the settings catalog lists them.
    extra_settings: tuple[tuple[str, str], ...] = ()


class DevProcess(msgspec.Struct):
    """An extra process `make up` runs (a local fake of an outside service)."""

    name: str
    argv: list[str]
    ready_url: str | None = None
    banner: str | None = None


DevEnvHook = Callable[[Path], dict[str, str]]
AfterStartHook = Callable[[dict[str, str]], Awaitable[list[str]]]


class Registry:
    def __init__(self) -> None:
        self.services: dict[str, ServiceInfo] = {}
        self.processes: list[DevProcess] = []
        self.dev_env_hooks: list[DevEnvHook] = []
        self.after_start_hooks: list[AfterStartHook] = []

    def add_service(
        self,
        name: str,
        *,
        package: str,
        url: str,
        database_url: str,
        migrations: str,
        consumers: tuple[str, ...] = (),
        extra_settings: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.services[name] = ServiceInfo(
            name, package, url, database_url, migrations, tuple(consumers), tuple(extra_settings)
        )

    def add_process(self, process: DevProcess) -> None:
        self.processes.append(process)

    def add_dev_env(self, hook: DevEnvHook) -> None:
        """`hook(dev_dir)` prepares local dev material (keys, certificates) and returns env settings."""
        self.dev_env_hooks.append(hook)

    def add_after_start(self, hook: AfterStartHook) -> None:
        """`await hook(env)` runs once every service is ready (e.g. the demo seed); returns banner lines."""
        self.after_start_hooks.append(hook)
