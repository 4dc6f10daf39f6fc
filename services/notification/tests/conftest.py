from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from litestar import Litestar, Request, Response, get
from litestar.testing import AsyncTestClient
from nujoomy_contracts import Envelope, Mode, ledger, new_envelope, tenant
from nujoomy_kit.db import make_engine, make_sessionmaker, plain_url
from nujoomy_kit.ids import uuid7
from nujoomy_kit.resources import database
from nujoomy_messaging import Topology, Worker, add_events
from nujoomy_notification.app import build_app
from nujoomy_notification.delivery.sender import Sender
from nujoomy_notification.delivery.wiring import build_sender
from nujoomy_notification.fakes.sms_provider import SmsFake, sms_app
from nujoomy_notification.fakes.smtp_sink import SmtpSink
from nujoomy_notification.settings import Settings, load
from nujoomy_notification.worker import build_worker
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


class WalletLinksServer:
    """A stand-in for wallet-pass's documented `GET /internal/v1/members/{mbr_id}/links`
    (docs/internal-api.md) over real HTTP on an ephemeral port: that endpoint has not landed yet."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.fail_next = 0
        self.apple_path_padding = 0  # makes the Apple link this much longer (and offers no card page)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    def app(self) -> Litestar:
        @get("/internal/v1/members/{member_id:str}/links")
        async def links(request: Request[Any, Any, Any], member_id: str) -> Response[dict[str, str]]:
            self.requests.append(
                {"member_id": member_id, "authorization": request.headers.get("authorization", "")}
            )
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response({"code": "unavailable"}, status_code=503)
            return Response(
                {
                    "apple_pass_url": f"https://wallet.example/apple/passes/{member_id}"
                    + "x" * self.apple_path_padding,
                    "google_save_url": f"https://pay.google.com/gp/v/save/{member_id}",
                }
            )

        return Litestar(route_handlers=[links])

    async def start(self) -> None:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


@pytest.fixture
async def db_url(make_db: MakeDb) -> str:
    return await make_db("notification", MIGRATIONS)


@pytest.fixture
def tokens() -> TestTokens:
    return TestTokens()


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    """The live relay, as far as the service knows: the outside world's SMTP server."""
    s = await SmtpSink().start()
    yield s
    await s.stop()


@pytest.fixture
async def sandbox() -> AsyncIterator[SmtpSink]:
    """The dev sink that test-mode mail must go to, and nowhere else."""
    s = await SmtpSink().start()
    yield s
    await s.stop()


@pytest.fixture
async def wallet() -> AsyncIterator[WalletLinksServer]:
    server = WalletLinksServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(
    db_url: str,
    amqp_url: str,
    redis_url: str,
    topology: Topology,
    redis_prefix: str,
    tokens: TestTokens,
    sink: SmtpSink,
    sandbox: SmtpSink,
    wallet: WalletLinksServer,
) -> Settings:
    return load(
        {},
        database_url=db_url,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        **tokens.service_settings("notification"),
        internal_keyset=tokens.keyset,
        wallet_pass_url=wallet.url,
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_starttls=False,
        smtp_connections=2,
        sandbox_smtp_host="127.0.0.1",
        sandbox_smtp_port=sandbox.port,
        # Never quiet unless a test says so: the suite must not depend on the hour it runs at.
        quiet_start=0,
        quiet_end=0,
        retry_delays_s="0.1,0.1,0.1",
        event_retry_delays_s="0.2,0.2,0.2",
        sender_poll_s=0.05,
        db_pool_size=4,
    )


@pytest.fixture
async def client(settings: Settings, tokens: TestTokens) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=build_app(settings, verifier=tokens.verifier())) as client:
        yield client


class Running:
    def __init__(self, worker: Worker, sender: Sender) -> None:
        self.worker, self.sender = worker, sender

    async def consumer_failures(self) -> int:
        return sum(c.failures for c in self.worker.consumers)


RunWorker = Callable[..., contextlib.AbstractAsyncContextManager[Running]]


@pytest.fixture
def run_worker(settings: Settings) -> RunWorker:
    """`async with run_worker(**overrides) as running:` a real worker (relay, consumer, sender)."""

    @contextlib.asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[Running]:
        s = msgspec_replace(settings, **overrides)
        engine, sessions = database(s)
        sender = build_sender(s, sessions)
        worker: Worker = build_worker(s, sender=sender)
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(worker.started.wait(), 15)
        try:
            yield Running(worker, sender)
        finally:
            worker.stop()
            await asyncio.wait_for(task, 15)
            await sender.close()
            await engine.dispose()

    return run


def msgspec_replace(settings: Settings, **changes: Any) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, **changes)


class Bus:
    """Plays the other services: puts their events on the real exchange (through an outbox the
    worker's relay drains) and reads what the notification service wrote."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    async def publish(self, *envelopes: Envelope[Any]) -> None:
        engine = make_engine(self.db_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await add_events(session, [(e, f"test:{e.id}") for e in envelopes])
        finally:
            await engine.dispose()

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(plain_url(self.db_url))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def messages(self, member_id: uuid.UUID | None = None) -> list[asyncpg.Record]:
        if member_id is None:
            return await self.fetch("SELECT * FROM messages ORDER BY id")
        return await self.fetch("SELECT * FROM messages WHERE member_id = $1 ORDER BY id", member_id)


@pytest.fixture
def bus(db_url: str) -> Bus:
    return Bus(db_url)


TENANT = uuid.UUID("0193a000-0000-7000-8000-0000000000a1")
OTHER_TENANT = uuid.UUID("0193a000-0000-7000-8000-0000000000b2")


def member(
    *,
    email: str | None = "layla@example.com",
    phone: str | None = None,
    consent_email: bool = True,
    consent_sms: bool = False,
    locale: str | None = "en",
    name: str | None = "Layla",
) -> ledger.Member:
    return ledger.Member(
        member_id=uuid7(),
        program_id=None,
        name=name,
        email=email,
        phone=phone,
        external_id=None,
        locale=locale,
        consent_email=consent_email,
        consent_sms=consent_sms,
    )


def enrolled(m: ledger.Member, tenant_id: uuid.UUID = TENANT, mode: Mode = "live") -> Envelope[Any]:
    return new_envelope(
        ledger.MEMBER_ENROLLED,
        ledger.MemberEnrolled(member=m, card_token="card"),
        tenant_id=tenant_id,
        mode=mode,
    )


def earned(
    m: ledger.Member, points: int, balance_after: int, tenant_id: uuid.UUID = TENANT, mode: Mode = "live"
) -> Envelope[Any]:
    return new_envelope(
        ledger.TRANSACTION_POSTED,
        ledger.TransactionPosted(
            transaction_id=uuid7(),
            member_id=m.member_id,
            kind="earn",
            points=points,
            balance_after=balance_after,
            reference="Order 7",
            posted_at=datetime.now(UTC),
        ),
        tenant_id=tenant_id,
        mode=mode,
    )


def expiring(
    m: ledger.Member, points: int, tenant_id: uuid.UUID = TENANT, mode: Mode = "live"
) -> Envelope[Any]:
    return new_envelope(
        ledger.POINTS_EXPIRING,
        ledger.PointsExpiring(
            member_id=m.member_id, points=points, expires_at=datetime.now(UTC) + timedelta(days=7)
        ),
        tenant_id=tenant_id,
        mode=mode,
    )


def tenant_facts(timezone: str = "UTC", locale: str = "en", tenant_id: uuid.UUID = TENANT) -> tenant.Tenant:
    return tenant.Tenant(
        tenant_id=tenant_id,
        slug="qahwa",
        name="Qahwa House",
        locale=locale,
        timezone=timezone,
        currency="SAR",
        status="active",
    )


def tenant_created(
    timezone: str = "UTC", locale: str = "en", tenant_id: uuid.UUID = TENANT, mode: Mode = "live"
) -> Envelope[Any]:
    facts = tenant_facts(timezone, locale, tenant_id)
    return new_envelope(tenant.TENANT_CREATED, facts, tenant_id=tenant_id, mode=mode)


class Make:
    """Event and member factories (tests reach them through the `make` fixture: with
    --import-mode=importlib a test module cannot import conftest)."""

    TENANT = TENANT
    OTHER_TENANT = OTHER_TENANT
    member = staticmethod(member)
    enrolled = staticmethod(enrolled)
    earned = staticmethod(earned)
    expiring = staticmethod(expiring)
    tenant_facts = staticmethod(tenant_facts)
    tenant_created = staticmethod(tenant_created)


@pytest.fixture
def make() -> type[Make]:
    return Make


@pytest.fixture(scope="session")
def wallet_material(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nujoomy_wallet_pass import devcerts

    return devcerts.generate(tmp_path_factory.mktemp("wallet"))


class RealWalletPass:
    def __init__(self, url: str, download_secret: bytes) -> None:
        self.url = url
        self.download_secret = download_secret


@pytest.fixture
async def real_wallet_pass(
    make_db: MakeDb,
    wallet_material: Path,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
) -> AsyncIterator[RealWalletPass]:
    """The real wallet-pass app (its links endpoint has landed), on an ephemeral port with its own
    database. APNs and Google are never called for links, so their URLs point nowhere."""
    from nujoomy_wallet_pass import devcerts
    from nujoomy_wallet_pass.app import build_app as build_wallet_app
    from nujoomy_wallet_pass.settings import load as load_wallet

    migrations = Path(__file__).resolve().parents[2] / "wallet-pass" / "migrations"
    nowhere = "http://127.0.0.1:9"
    wallet_settings = load_wallet(
        devcerts.wallet_env(wallet_material, nowhere, f"{nowhere}/walletobjects/v1", f"{nowhere}/token"),
        database_url=await make_db("wallet-pass", migrations),
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        public_url="https://wallet.nujoomy.test",
    )
    app = build_wallet_app(wallet_settings, verifier=tokens.verifier("wallet-pass"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield RealWalletPass(f"http://127.0.0.1:{port}", app.state["wallet"].download_secret)
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def serve(app: Litestar) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


SMS_SECRET = "sms-test-secret"


@pytest.fixture
async def sms() -> AsyncIterator[tuple[SmsFake, str]]:
    """The SMS provider fake over real HTTP; (fake, its /messages URL)."""
    fake = SmsFake(SMS_SECRET)
    server, task, url = await serve(sms_app(fake))
    yield fake, f"{url}/messages"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
