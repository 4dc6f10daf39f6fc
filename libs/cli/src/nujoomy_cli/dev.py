"""`nujoomy dev up|down|init`: run the whole system locally under one supervisor.

`up` prepares dev keys, creates and migrates the databases, starts every service's app and worker and
the local fakes of the outside world, prefixes and colours their logs, waits until every
`/health/ready` is green, runs the after-start hooks (the demo seed) and prints where to sign in.
Ctrl-C (or `nujoomy dev down` for a `--detach`ed run) stops everything: SIGTERM, then SIGKILL after
a grace period. A child that dies is restarted with a growing delay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from nujoomy_cli import ops
from nujoomy_cli.devkeys import internal_keys
from nujoomy_cli.registry import DevProcess, Registry

COLOURS = ["36", "33", "35", "32", "34", "31", "96", "93", "95", "92", "94", "91"]
GRACE_SECONDS = 10


def dev_dir() -> Path:
    return Path(os.environ.get("NUJOOMY_DEV_DIR", Path.cwd() / ".dev")).resolve()


def register(commands: argparse._SubParsersAction, registry: Registry) -> None:  # type: ignore[type-arg]
    group = commands.add_parser("dev", help="run the whole system locally")
    sub = group.add_subparsers(dest="dev_command", required=True)
    p = sub.add_parser("init", help="create local keys and certificates, print the env")
    p.set_defaults(run=lambda a: _print_env(dev_env(registry)))
    p = sub.add_parser("up", help="create, migrate, start everything, wait until ready")
    p.add_argument("--detach", action="store_true", help="run in the background; stop with `dev down`")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for readiness")
    p.set_defaults(run=lambda a: up(registry, a.detach, a.timeout))
    p = sub.add_parser("down", help="stop a background run")
    p.set_defaults(run=lambda a: down())


def dev_env(registry: Registry) -> dict[str, str]:
    directory = dev_dir()
    directory.mkdir(parents=True, exist_ok=True)
    env = {"NUJOOMY_DEV_MODE": "true", "NUJOOMY_LOG_JSON": "false", "NUJOOMY_DEV_DIR": str(directory)}
    env.update(internal_keys(directory, registry.services))
    for hook in registry.dev_env_hooks:
        env.update(hook(directory))
    # Later `uv run nujoomy …` calls in another shell read this (see main.load_dev_env), so operator
    # commands against a local run need no exports.
    (directory / "env").write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
    return env


def _print_env(env: dict[str, str]) -> int:
    for key, value in sorted(env.items()):
        print(f"{key}={value}")
    return 0


def _pidfile() -> Path:
    return dev_dir() / "up.pid"


def down() -> int:
    pidfile = _pidfile()
    if not pidfile.exists():
        print("no background run (no .dev/up.pid)")
        return 0
    pid = int(pidfile.read_text())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        for _ in range((GRACE_SECONDS + 5) * 10):
            os.kill(pid, 0)
            time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    print("stopped")
    return 0


def up(registry: Registry, detach: bool, timeout: float) -> int:
    env = {**os.environ, **dev_env(registry)}
    os.environ.update(env)
    if detach:
        return _detach(timeout)
    asyncio.run(ops.create_all(registry))
    ops.migrate_all(registry)
    return asyncio.run(Supervisor(registry, env, timeout).run())


def _detach(timeout: float) -> int:
    logs = dev_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = (logs / "up.log").open("ab")
    ready_marker = dev_dir() / "ready"
    ready_marker.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "nujoomy_cli.main", "dev", "up", "--timeout", str(timeout)]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        argv, stdout=log, stderr=log, start_new_session=True, env=os.environ.copy()
    )
    _pidfile().write_text(str(proc.pid))
    deadline = time.monotonic() + timeout + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"nujoomy dev up exited early ({proc.returncode}); see {logs / 'up.log'}")
            return 1
        if ready_marker.exists():
            print(ready_marker.read_text())
            return 0
        time.sleep(0.5)
    print(f"not ready in time; see {logs / 'up.log'}")
    return 1


class Child:
    def __init__(self, name: str, argv: list[str], colour: str) -> None:
        self.name = name
        self.argv = argv
        self.colour = colour
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0


class Supervisor:
    def __init__(self, registry: Registry, env: dict[str, str], timeout: float) -> None:
        self.registry = registry
        self.env = env
        self.timeout = timeout
        self.stopping = asyncio.Event()
        self.failed = False  # not ready in time: `make up` must exit non-zero
        self.children: list[Child] = []
        width = 0
        for info in registry.services.values():
            for role in ("api", "worker"):
                self.children.append(
                    Child(f"{info.name}.{role}", [sys.executable, "-m", info.package, role], "")
                )
        for extra in registry.processes:
            self.children.append(Child(extra.name, extra.argv, ""))
        for i, child in enumerate(self.children):
            child.colour = COLOURS[i % len(COLOURS)]
            width = max(width, len(child.name))
        self.width = width

    def say(self, name: str, colour: str, line: str) -> None:
        sys.stdout.write(f"\x1b[{colour}m{name.ljust(self.width)} |\x1b[0m {line}\n")
        sys.stdout.flush()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        (dev_dir() / "ready").unlink(missing_ok=True)
        tasks = [asyncio.create_task(self.keep(child)) for child in self.children]
        ready = asyncio.create_task(self.announce())
        await self.stopping.wait()
        ready.cancel()
        self.say("nujoomy", "1", "stopping…")
        await self.terminate()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, ready, return_exceptions=True)
        (dev_dir() / "ready").unlink(missing_ok=True)
        self.say("nujoomy", "1", "stopped")
        return 1 if self.failed else 0

    async def keep(self, child: Child) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            child.proc = await asyncio.create_subprocess_exec(
                *child.argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
            assert child.proc.stdout is not None
            async for raw in child.proc.stdout:
                self.say(child.name, child.colour, raw.decode(errors="replace").rstrip())
            code = await child.proc.wait()
            if self.stopping.is_set():
                return
            child.restarts += 1
            self.say(child.name, "1", f"exited with {code}; restarting in {delay:.0f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)
            delay = min(delay * 2, 30)

    async def terminate(self) -> None:
        live = [c.proc for c in self.children if c.proc and c.proc.returncode is None]
        for proc in live:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for proc in live:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), max(0.1, deadline - time.monotonic()))
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    async def announce(self) -> None:
        urls = [f"{i.url}/health/ready" for i in self.registry.services.values()]
        urls += [p.ready_url for p in self.registry.processes if p.ready_url]
        deadline = time.monotonic() + self.timeout
        async with httpx.AsyncClient(timeout=2) as client:
            pending = set(urls)
            while pending:
                for url in list(pending):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(url)).status_code == 200:
                            pending.discard(url)
                if pending and time.monotonic() > deadline:
                    self.say(
                        "nujoomy", "1", f"not ready after {self.timeout:.0f}s: {', '.join(sorted(pending))}"
                    )
                    self.failed = True
                    self.stopping.set()
                    return
                if pending:
                    await asyncio.sleep(0.5)
        lines = ["", "Nujoomy is up.", ""]
        for info in self.registry.services.values():
            lines.append(f"  {info.name:<16} {info.url}   (docs {info.url}/docs)")
        for proc in self.registry.processes:
            if proc.banner:
                lines.append(f"  {proc.name:<16} {proc.banner}")
        for hook in self.registry.after_start_hooks:
            try:
                lines += await hook(self.env)
            except Exception as exc:  # the banner still prints; the failure is shown, not hidden
                lines.append(f"  after-start hook failed: {exc!r}")
        lines += ["", "Ctrl-C stops everything.", ""]
        text = "\n".join(lines)
        (dev_dir() / "ready").write_text(text)
        for line in lines:
            self.say("nujoomy", "1;32", line)


__all__ = ["DevProcess", "register"]
