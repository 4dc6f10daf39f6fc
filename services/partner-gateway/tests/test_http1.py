"""The lean HTTP/1.1 client behind the downstream calls and the webhook sender, against real local
servers speaking HTTP/1.1 over TCP (and TLS): reuse, framing, timeouts, refusals, certificates."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from nujoomy_partner_gateway.http1 import ConnectError, Http1Pool, Timeout, request_bytes

from .support import free_port

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(handler: Serve, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[int, list[int]]]:
    """A TCP server; yields its port and a list that grows by one per accepted connection."""
    connections: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=tls)
    try:
        yield srv.sockets[0].getsockname()[1], connections
    finally:
        srv.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


def post(port: int, body: bytes = b'{"x":1}') -> bytes:
    return request_bytes(
        b"POST", b"/hook", b"127.0.0.1:%d" % port, [("Content-Type", "application/json")], body
    )


async def test_keep_alive_reuses_one_connection_and_reads_chunked_answers() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(
                b"HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            )

    pool = Http1Pool(timeout=5)
    async with server(chunked) as (port, connections):
        for _ in range(3):
            answer = await pool.request(("http", "127.0.0.1", port, "127.0.0.1"), post(port))
            assert (answer.status, answer.body, answer.content_type) == (202, b"abcde", "text/plain")
    await pool.aclose()
    assert len(connections) == 1


async def test_a_reused_connection_closed_without_any_answer_is_retried_once_on_a_fresh_one() -> None:
    # The keep-alive race: the server gave up on the idle connection as the next request went out.
    # Here it reads that request and closes without a byte back; a fresh connection is answered.
    async def one_answer_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await read_request(reader)

    pool = Http1Pool(timeout=5)
    async with server(one_answer_per_connection) as (port, connections):
        for _ in range(2):
            answer = await pool.request(("http", "127.0.0.1", port, "127.0.0.1"), post(port))
            assert answer.status == 200
    await pool.aclose()
    assert len(connections) == 2


async def test_an_answer_delimited_by_closing_the_connection() -> None:
    async def close_delimited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 410 Gone\r\nConnection: close\r\n\r\nbye")
        await writer.drain()

    pool = Http1Pool(timeout=5)
    async with server(close_delimited) as (port, _):
        answer = await pool.request(("http", "127.0.0.1", port, "127.0.0.1"), post(port))
    assert (answer.status, answer.body) == (410, b"bye")


async def test_a_silent_server_times_out_and_a_closed_port_is_a_connect_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    pool = Http1Pool(timeout=0.3)
    async with server(silent) as (port, _):
        with pytest.raises(Timeout):
            await pool.request(("http", "127.0.0.1", port, "127.0.0.1"), post(port))
    closed = free_port()
    with pytest.raises(ConnectError):
        await pool.request(("http", "127.0.0.1", closed, "127.0.0.1"), post(closed))


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only that certificate, for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    client_side = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
    return server_side, client_side


async def test_tls_talks_to_a_trusted_server_and_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    async def ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    server_side, trusting = _self_signed(tmp_path)
    async with server(ok, tls=server_side) as (port, connections):
        origin = ("https", "127.0.0.1", port, "127.0.0.1")
        trusted = Http1Pool(timeout=5, tls=trusting)
        for _ in range(2):
            assert (await trusted.request(origin, post(port))).body == b"ok"
        await trusted.aclose()
        assert len(connections) == 1  # kept alive over TLS too
        with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await Http1Pool(timeout=5).request(origin, post(port))  # the system trust store
