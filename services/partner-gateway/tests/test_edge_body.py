"""Request bodies at the edge: the limiter and the concurrency cap answer before any body is read,
and a body is read only up to the 1 MiB limit (whatever Content-Length says, chunked or not), then
refused with a 413 problem. Over a real socket, so "read" means bytes taken off the connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from nujoomy_kit.ids import encode_id
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.domain.keys import hash_key
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .conftest import MakeKey

MIB = 1_048_576
CHUNK = b"x" * 65_536


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.body)
        return data


@pytest.fixture
async def gateway(settings: Settings, tokens: TestTokens) -> AsyncIterator[tuple[str, int, object]]:
    app = build_app(settings, verifier=tokens.verifier())
    async with served(app) as url:
        parts = urlsplit(url)
        yield str(parts.hostname), int(parts.port or 80), app


async def _open(
    host: str, port: int, key: str, headers: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            "POST /v1/webhook_endpoints HTTP/1.1\r\nHost: gateway\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n{headers}\r\n"
        ).encode()
    )
    await writer.drain()
    return reader, writer


async def _send_chunks(writer: asyncio.StreamWriter, count: int) -> None:
    for _ in range(count):
        writer.write(f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n")
    await writer.drain()


async def _answer(reader: asyncio.StreamReader) -> Answer:
    """The answer, which must come while the body is still unfinished (the client never ends it)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if headers.get("transfer-encoding") != "chunked":
        body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 5)
        return Answer(status, headers, body)
    body = b""
    while size := int((await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)).strip(), 16):
        body += await asyncio.wait_for(reader.readexactly(size + 2), 5)
        body = body[:-2]
    return Answer(status, headers, body)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_a_key_over_its_rate_is_refused_before_its_body_is_read(
    gateway: tuple[str, int, object], make_key: MakeKey
) -> None:
    host, port, _ = gateway
    key = await make_key("test", rate=0.01, burst=1)
    for attempt in range(2):  # burst 1: two at once from idle, then the key is spent
        reader, writer = await _open(host, port, key, "Content-Length: 2\r\n")
        writer.write(b"{}")
        assert (await _answer(reader)).status == 422, attempt
        await _close(writer)
    reader, writer = await _open(host, port, key, "Idempotency-Key: big-1\r\nTransfer-Encoding: chunked\r\n")
    await _send_chunks(writer, 4)  # 256 KiB of a body that never ends
    refused = await _answer(reader)
    await _close(writer)
    assert refused.status == 429
    assert refused.json()["code"] == "rate_limited"


async def test_a_key_at_its_concurrency_cap_is_refused_before_its_body_is_read(
    gateway: tuple[str, int, object], make_key: MakeKey, tenant: uuid.UUID
) -> None:
    host, port, app = gateway
    key = await make_key("test", max_in_flight=1)
    key_id = await _key_id(app, key)
    app.state["edge"].in_flight[key_id] = 1  # type: ignore[attr-defined]  # one request being served
    try:
        reader, writer = await _open(
            host, port, key, "Idempotency-Key: big-2\r\nTransfer-Encoding: chunked\r\n"
        )
        await _send_chunks(writer, 4)
        refused = await _answer(reader)
        await _close(writer)
    finally:
        app.state["edge"].in_flight.pop(key_id, None)  # type: ignore[attr-defined]
    assert refused.status == 429
    assert refused.json()["code"] == "too_many_concurrent_requests"


async def test_a_chunked_body_is_cut_off_at_the_limit_with_a_413(
    gateway: tuple[str, int, object], make_key: MakeKey
) -> None:
    host, port, _ = gateway
    key = await make_key("test")
    reader, writer = await _open(host, port, key, "Idempotency-Key: big-3\r\nTransfer-Encoding: chunked\r\n")
    await _send_chunks(writer, MIB // len(CHUNK) + 2)  # just past 1 MiB, and no end in sight
    refused = await _answer(reader)
    await _close(writer)
    assert refused.status == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "payload_too_large"


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    gateway: tuple[str, int, object], make_key: MakeKey
) -> None:
    host, port, _ = gateway
    key = await make_key("test")
    for idempotent in ("Idempotency-Key: big-4\r\n", ""):
        reader, writer = await _open(host, port, key, f"{idempotent}Content-Length: {256 * MIB}\r\n")
        refused = await _answer(reader)  # not one byte of the body was sent
        await _close(writer)
        assert refused.status == 413, idempotent
        assert refused.json()["code"] == "payload_too_large"


async def test_a_body_under_the_limit_still_goes_through(
    gateway: tuple[str, int, object], make_key: MakeKey
) -> None:
    host, port, _ = gateway
    key = await make_key("test")
    body = json.dumps({"url": "http://127.0.0.1:9/hook", "description": "d" * 200_000}).encode()
    reader, writer = await _open(host, port, key, "Idempotency-Key: fits\r\nTransfer-Encoding: chunked\r\n")
    for start in range(0, len(body), 50_000):
        part = body[start : start + 50_000]
        writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
    writer.write(b"0\r\n\r\n")
    answer = await _answer(reader)
    await _close(writer)
    assert answer.status in (201, 422), answer.body  # the handler judged it: the edge let it through
    assert answer.json().get("code") != "payload_too_large"


async def _key_id(app: object, secret: str) -> str:
    import asyncpg
    from nujoomy_kit.db import plain_url

    settings: Settings = app.state["settings"]  # type: ignore[attr-defined]
    conn = await asyncpg.connect(plain_url(settings.database_url))
    try:
        return encode_id(
            "key", await conn.fetchval("SELECT id FROM api_keys WHERE sha256 = $1", hash_key(secret))
        )
    finally:
        await conn.close()
