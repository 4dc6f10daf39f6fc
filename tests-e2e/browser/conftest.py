"""Browser tests: the real services in-process (each build_app served by uvicorn on an ephemeral
port, databases from make_db), the gateway with the web routes, and Debian's Chromium via Playwright."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from nujoomy_messaging import Topology
from nujoomy_partner_gateway.settings import load as load_gateway
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens
from playwright.async_api import Browser, async_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "partner-gateway" / "tests" / "web"))
from nujoomy_testing.servers import served  # noqa: E402
from web_stack import Stack, full_stack, gateway_app, working  # noqa: E402

SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def wallet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nujoomy_wallet_pass import devcerts

    return devcerts.generate(tmp_path_factory.mktemp("wallet"))


@pytest.fixture
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
async def stack(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
    wallet_dir: Path,
) -> AsyncIterator[Stack]:
    common = {
        "amqp_url": amqp_url,
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "db_pool_size": 2,
        "events_exchange": topology.exchange,
        "queue_prefix": topology.prefix,
        "internal_keyset": tokens.keyset,
        "member_link_private_key": tokens.member_link_private_pem,  # wallet-pass signs the links
    }
    async with full_stack(
        tenant_db=await make_db("tenant", ROOT / "services" / "tenant" / "migrations"),
        ledger_db=await make_db("ledger", ROOT / "services" / "ledger" / "migrations"),
        wallet_db=await make_db("wallet-pass", ROOT / "services" / "wallet-pass" / "migrations"),
        common=common,
        wallet_dir=wallet_dir,
    ) as running:
        yield running


@contextlib.asynccontextmanager
async def gateway_site(
    stack: Stack,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
    **overrides: Any,
) -> AsyncIterator[str]:
    """The gateway's base URL, on `localhost` so Chromium keeps the Secure cookies over plain http;
    `overrides` point it at more of the services (e.g. notification_url)."""
    settings = load_gateway(
        {},
        database_url=await make_db("partner-gateway", ROOT / "services" / "partner-gateway" / "migrations"),
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        db_pool_size=2,  # the shared PostgreSQL serves every team's suites
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
        **tokens.service_settings("partner-gateway"),
        tenant_url=stack.tenant_url,
        ledger_url=stack.ledger_url,
        wallet_pass_url=stack.wallet_pass_url,
        public_url="http://localhost",
        dev_mode=True,  # lets a webhook endpoint live on loopback (the fake partner below)
        webhook_poll_seconds=0.1,
        **overrides,
    )
    from nujoomy_partner_gateway.worker import build_worker

    async with served(gateway_app(settings)) as url, working(build_worker(settings, relay_poll=0.1)):
        yield url.replace("127.0.0.1", "localhost")


@pytest.fixture
async def site(
    stack: Stack,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
) -> AsyncIterator[str]:
    async with gateway_site(stack, make_db, amqp_url, redis_url, topology, redis_prefix, tokens) as url:
        yield url


class PartnerEndpoint:
    """A partner's webhook receiver (the outside world): answers 200 and keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.received.append({"headers": dict(self.headers), "body": body.decode()})
                answer = b'{"received": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def partner_endpoint() -> Iterator[PartnerEndpoint]:
    endpoint = PartnerEndpoint()
    yield endpoint
    endpoint.server.shutdown()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def shot() -> Any:
    async def take(page: Any, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(autouse=True)
def patient_bff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shared test machine runs every team's suites at once; a 5 s production timeout would turn
    # load into false "unavailable" answers here.
    monkeypatch.setenv("NUJOOMY_WEB_HTTP_TIMEOUT", "30")


class Mail:
    """The notification service at work behind the pages: the SMTP relay it sends to (the outside
    world's, faked) and a read of what it decided."""

    def __init__(self, sink: Any, database_url: str, api_url: str = "") -> None:
        self.sink = sink
        self.database_url = database_url
        self.api_url = api_url  # notification's API (the member page's message history)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        import asyncpg
        from nujoomy_kit.db import plain_url

        conn = await asyncpg.connect(plain_url(self.database_url))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()


@pytest.fixture
async def mail(
    stack: Stack,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
) -> AsyncIterator[Mail]:
    """notification's worker (consumers + sender) and API, and wallet-pass's worker (its member
    projection, so a joined customer's pass downloads), started before anyone joins so their queues
    exist."""
    import msgspec
    from nujoomy_notification.app import build_app as notification_app
    from nujoomy_notification.fakes.smtp_sink import SmtpSink
    from nujoomy_notification.settings import load as load_notification
    from nujoomy_notification.worker import build_worker as notification_worker
    from nujoomy_wallet_pass.worker import build_worker as wallet_worker

    sink = await SmtpSink().start()
    settings = load_notification(
        {},
        database_url=await make_db("notification", ROOT / "services" / "notification" / "migrations"),
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix + "n:",
        db_pool_size=2,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
        **tokens.service_settings("notification"),
        wallet_pass_url=stack.wallet_pass_url,
        tenant_url=stack.tenant_url,  # staff tokens on its API are verified with the tenant's keys
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_starttls=False,
        smtp_connections=1,
        quiet_start=0,  # never quiet: the test must not depend on the hour it runs at
        quiet_end=0,
        sender_poll_s=0.1,
    )
    wallet = msgspec.structs.replace(stack.wallet_settings, worker_sync=False)
    try:
        async with (
            working(notification_worker(settings)),
            working(wallet_worker(wallet, relay_poll=0.1)),
            served(notification_app(settings)) as api_url,
        ):
            yield Mail(sink, settings.database_url, api_url)
    finally:
        await sink.stop()
