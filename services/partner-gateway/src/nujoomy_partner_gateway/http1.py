"""A minimal HTTP/1.1 client: pooled keep-alive connections, one request shape, nothing more.

httpx was most of the gateway's own CPU on both of its hot outbound paths (≈ 0.3 to 0.5 ms per
request: URL and header models, the transport stack); the downstream calls and the webhook POSTs
need one request shape, so this writes the request directly and parses the answer with httptools
(the C parser uvicorn uses). What it keeps from a client library: TLS with certificate and host
verification, a strict timeout per request (connect + send + answer), no redirects, a bounded
answer size, connections reused only while the server keeps them open, and one retry on a fresh
connection when a reused one turns out closed before any answer byte (the keep-alive race).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

import httptools
import msgspec

MAX_ANSWER_BYTES = 1 << 20  # an answer beyond this is cut off and its connection closed
IDLE_PER_ORIGIN = 256

# (scheme, host name, port, address to connect to)
Origin = tuple[str, str, int, str]


class SendError(Exception):
    """No HTTP answer. The subclass names are what logs show (as httpx named them)."""


class ConnectError(SendError):
    """Refused, unreachable, or the TLS handshake failed."""


class NetworkError(SendError):
    """The connection broke while sending or waiting for the answer."""


class ProtocolError(SendError):
    """The answer was not HTTP/1.1 this client accepts."""


class Timeout(SendError):
    """No complete answer within the request's time."""


class Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    content_type: str | None = None


class _Parse:
    """httptools callbacks: the content type, the body (up to the cap), whether head and message ended."""

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.size = 0
        self.head = False
        self.complete = False
        self.keep_alive = False
        self.content_type: str | None = None
        self.parser: httptools.HttpResponseParser | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self.content_type = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.head = True

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size <= MAX_ANSWER_BYTES:
            self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        # Only meaningful now: llhttp resets its state once the callback returns.
        assert self.parser is not None
        self.keep_alive = self.parser.should_keep_alive()

    def answer(self, parser: httptools.HttpResponseParser) -> Answer:
        return Answer(parser.get_status_code(), b"".join(self.body), self.content_type)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    async def exchange(self, request: bytes) -> tuple[Answer, bool]:
        """One request and its answer; returns the answer and whether the connection may be reused.
        ConnectionResetError means the server sent nothing at all before closing."""
        self.writer.write(request)
        await self.writer.drain()
        parse = _Parse()
        parser = parse.parser = httptools.HttpResponseParser(parse)
        received = False
        while not parse.complete:
            try:
                chunk = await self.reader.read(65536)
            except OSError as exc:
                if received:  # part of an answer came: the server saw this request
                    raise NetworkError(f"{type(exc).__name__}: {exc}") from None
                raise
            if not chunk:
                if not received:
                    raise ConnectionResetError("closed before answering")
                if not parse.head:
                    raise NetworkError("The connection closed mid-answer")
                # An answer delimited by the close of the connection (no length): it ends here.
                return parse.answer(parser), False
            received = True
            try:
                parser.feed_data(chunk)
            except httptools.HttpParserUpgrade:
                raise ProtocolError("The server tried to upgrade the connection") from None
            except httptools.HttpParserError as exc:
                raise ProtocolError(f"Malformed HTTP answer: {exc}") from None
            if parse.size > MAX_ANSWER_BYTES:
                return parse.answer(parser), False
        return parse.answer(parser), parse.keep_alive


class Http1Pool:
    def __init__(
        self, *, timeout: float, connect_timeout: float | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout or timeout
        self._idle: dict[Origin, list[_Connection]] = {}
        # The system's trust store with host-name checking; tests pass a context trusting their own CA.
        self._tls = tls or ssl.create_default_context()

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def request(self, origin: Origin, request: bytes) -> Answer:
        """Send the complete request bytes (see `request_bytes`) to `origin`; raises SendError."""
        try:
            async with asyncio.timeout(self._timeout):
                return await self._send(origin, request)
        except TimeoutError:
            raise Timeout(f"No answer within {self._timeout:g} s") from None
        except OSError as exc:  # ssl.SSLError is an OSError too
            raise NetworkError(f"{type(exc).__name__}: {exc}") from None

    async def _send(self, origin: Origin, request: bytes) -> Answer:
        reused = self._take_idle(origin)
        if reused is not None:
            try:
                return await self._exchange(origin, reused, request)
            except (ConnectionResetError, BrokenPipeError):
                # The server closed the idle connection before reading this request (keep-alive
                # race): nothing reached it, so a fresh connection is safe.
                pass
        connection = await self._open(origin)
        return await self._exchange(origin, connection, request)

    async def _exchange(self, origin: Origin, connection: _Connection, request: bytes) -> Answer:
        try:
            answer, keep = await connection.exchange(request)
        except BaseException:
            connection.close()
            raise
        idle = self._idle.setdefault(origin, [])
        if keep and len(idle) < IDLE_PER_ORIGIN:
            idle.append(connection)
        else:
            connection.close()
        return answer

    def _take_idle(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _open(self, origin: Origin) -> _Connection:
        scheme, host, port, address = origin
        tls = scheme == "https"
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    address,
                    port,
                    ssl=self._tls if tls else None,
                    server_hostname=host if tls else None,
                    limit=1 << 16,
                )
        except (OSError, TimeoutError) as exc:
            raise ConnectError(f"{type(exc).__name__}: {exc}") from None
        return _Connection(reader, writer)


def request_bytes(
    method: bytes, target: bytes, host_header: bytes, headers: list[tuple[str, str]], body: bytes | None
) -> bytes:
    """The request's bytes. `target` is the path and query, already percent-encoded."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: " + host_header]
    if body is not None:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    for name, value in headers:
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ProtocolError("A header contains a line break")
        lines.append(f"{name}: {value}".encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def host_header(scheme: str, host: str, port: int) -> bytes:
    netloc = f"[{host}]" if ":" in host else host
    if port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    return netloc.encode("idna")
