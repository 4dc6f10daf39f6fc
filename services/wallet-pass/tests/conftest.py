from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens
from nujoomy_wallet_pass import devcerts
from nujoomy_wallet_pass.app import build_app
from nujoomy_wallet_pass.fakes.apns import ApnsFake
from nujoomy_wallet_pass.fakes.google import GoogleFakeState, build_fake_app
from nujoomy_wallet_pass.google import ServiceAccount
from nujoomy_wallet_pass.settings import Settings, load

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# --import-mode=importlib puts nothing on sys.path; the tests share wallet_pass_helpers.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def wallet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return devcerts.generate(tmp_path_factory.mktemp("wallet"))


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Static files standing in for the tenant service's /assets/{sha}.png and nothing else."""
    root = tmp_path_factory.mktemp("assets")
    (root / "assets").mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


@pytest.fixture
async def apns(wallet_dir: Path) -> AsyncIterator[ApnsFake]:
    fake = ApnsFake()
    await fake.start(
        str(wallet_dir / "apns-fake.pem"), str(wallet_dir / "apns-fake.key"), str(wallet_dir / "ca.pem")
    )
    yield fake
    await fake.stop()


@pytest.fixture
async def google(wallet_dir: Path) -> AsyncIterator[tuple[GoogleFakeState, str]]:
    state = GoogleFakeState(account=ServiceAccount.load(str(wallet_dir / "google-service-account.json")))
    server = uvicorn.Server(
        uvicorn.Config(build_fake_app(state), host="127.0.0.1", port=0, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield state, f"http://127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 5)


@pytest.fixture
async def db_url(make_db: MakeDb) -> str:
    return await make_db("wallet-pass", MIGRATIONS)


@pytest.fixture
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
def settings(
    db_url: str,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    wallet_dir: Path,
    apns: ApnsFake,
    google: tuple[GoogleFakeState, str],
    assets: tuple[str, Path],
) -> Settings:
    env = devcerts.wallet_env(wallet_dir, apns.url, f"{google[1]}/walletobjects/v1", f"{google[1]}/token")
    return load(
        env,
        database_url=db_url,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        tenant_url=assets[0],
        sync_interval_seconds=0.02,
    )


@pytest.fixture
async def client(settings: Settings, tokens: TestTokens) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=build_app(settings, verifier=tokens.verifier())) as client:
        yield client
