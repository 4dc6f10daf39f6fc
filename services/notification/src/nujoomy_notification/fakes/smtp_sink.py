"""An SMTP sink (aiosmtpd) that keeps every message and shows them over HTTP.

`refuse_next(n)` answers the next n DATA commands with 451 (a transient failure, RFC 5321 §4.2.1),
for tests and chaos. `python -m nujoomy_notification.fakes.smtp_sink` runs it for `make up`.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import ssl
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiosmtpd.smtp import SMTP, Envelope, Session
from litestar import Litestar, MediaType, delete, get, post
from litestar.di import Provide


class StoredPart(msgspec.Struct, kw_only=True):
    content_type: str
    content: str


class StoredMessage(msgspec.Struct, kw_only=True):
    id: int
    received_at: datetime
    mail_from: str
    rcpt_to: list[str]
    subject: str
    headers: dict[str, str]
    parts: list[StoredPart]

    def part(self, content_type: str) -> str:
        return next((p.content for p in self.parts if p.content_type == content_type), "")


class _Received(msgspec.Struct):
    seq: int
    received_at: datetime
    mail_from: str
    rcpt_to: list[str]
    raw: bytes


def _parse(got: _Received) -> StoredMessage:
    raw = got.raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [
        StoredPart(content_type=p.get_content_type(), content=str(p.get_content()))
        for p in parsed.walk()
        if not p.is_multipart()
    ]
    return StoredMessage(
        id=got.seq,
        received_at=got.received_at,
        mail_from=got.mail_from,
        rcpt_to=got.rcpt_to,
        subject=str(parsed.get("Subject", "")),
        headers={k: str(v).strip() for k, v in parsed.items()},
        parts=parts,
    )


class SmtpSink:
    """`starttls`: offer STARTTLS with this context and refuse mail without it (530);
    `implicit_tls`: TLS from the first byte, as on port 465."""

    def __init__(
        self, *, starttls: ssl.SSLContext | None = None, implicit_tls: ssl.SSLContext | None = None
    ) -> None:
        self._starttls = starttls
        self._implicit_tls = implicit_tls
        # Raw until someone looks: parsing MIME costs more than receiving it, and the benchmark
        # only counts.
        self._received: list[_Received] = []
        self._parsed: list[StoredMessage] = []
        self.refused = 0
        self._refuse = 0
        # Recipients whose message is taken but not answered until `release()` (a slow relay).
        self._held: set[str] = set()
        self._release = asyncio.Event()
        self.holding = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    def refuse_next(self, count: int) -> None:
        self._refuse = count

    def hold(self, *recipients: str) -> None:
        self._held = set(recipients)
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    @property
    def received(self) -> int:
        return len(self._received)

    @property
    def messages(self) -> list[StoredMessage]:
        for got in self._received[len(self._parsed) :]:
            self._parsed.append(_parse(got))
        return list(self._parsed)

    def clear(self) -> None:
        self._received.clear()
        self._parsed.clear()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self._held.intersection(envelope.rcpt_tos):
            self.holding += 1
            await self._release.wait()
        if self._refuse > 0:
            self._refuse -= 1
            self.refused += 1
            return "451 4.3.0 Sink told to refuse; try again later"
        raw = envelope.original_content or envelope.content or b""
        self._received.append(
            _Received(
                seq=len(self._received) + 1,
                received_at=datetime.now(UTC),
                mail_from=envelope.mail_from or "",
                rcpt_to=list(envelope.rcpt_tos),
                raw=raw if isinstance(raw, bytes) else raw.encode(),
            )
        )
        return "250 OK"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> SmtpSink:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self,
                hostname="sink.local",
                data_size_limit=10_000_000,
                tls_context=self._starttls,
                require_starttls=self._starttls is not None,
            ),
            host,
            port,
            ssl=self._implicit_tls,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class RefuseBody(msgspec.Struct):
    count: int


def sink_app(sink: SmtpSink) -> Litestar:
    """`GET /messages` (JSON), `GET /stats`, `GET /` (a page), `POST /refuse {count}`, `DELETE /messages`."""

    @get("/messages")
    async def list_messages(sink: SmtpSink) -> list[StoredMessage]:
        return list(reversed(sink.messages))

    @get("/stats")
    async def stats(sink: SmtpSink) -> dict[str, int]:
        return {"received": sink.received, "refused": sink.refused}

    @delete("/messages")
    async def clear(sink: SmtpSink) -> None:
        sink.clear()

    @post("/refuse", status_code=204)
    async def refuse(sink: SmtpSink, data: RefuseBody) -> None:
        sink.refuse_next(data.count)

    @get("/", media_type=MediaType.HTML)
    async def page(sink: SmtpSink) -> str:
        from html import escape

        rows = "".join(
            f"<details><summary>#{m.id} {escape(m.received_at.isoformat())} "
            f"to {escape(', '.join(m.rcpt_to))}: <b>{escape(m.subject)}</b></summary>"
            f"<pre>{escape(m.part('text/plain'))}</pre>"
            f'<iframe sandbox srcdoc="{escape(m.part("text/html"))}" '
            "style='width:100%;height:320px'></iframe>"
            "</details>"
            for m in reversed(sink.messages[-200:])
        )
        return f"<!doctype html><title>SMTP sink</title><h1>SMTP sink ({len(sink.messages)})</h1>{rows}"

    def provide() -> Any:
        return sink

    return Litestar(
        route_handlers=[list_messages, stats, clear, refuse, page],
        dependencies={"sink": Provide(provide, sync_to_thread=False)},
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="smtp_sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()

    async def run() -> None:
        import logging

        import uvicorn

        # aiosmtpd logs every SMTP command at INFO; at thousands of messages that is the bottleneck.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

        sink = await SmtpSink().start(args.host, args.smtp_port)
        server = uvicorn.Server(
            uvicorn.Config(
                sink_app(sink),
                host=args.host,
                port=args.http_port,
                log_level="warning",
                timeout_graceful_shutdown=2,
            )
        )
        try:
            await server.serve()
        finally:
            await sink.stop()

    asyncio.run(run())


if __name__ == "__main__":
    main()
