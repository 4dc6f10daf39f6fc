"""The BFF's calls to the internal services survive the keep-alive race: a service closing an idle
connection just as the BFF reuses it answers nothing, and a read is then sent again on a fresh
connection (the BFF fuzz met this as a 503 `backend_unavailable`); a write is not repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from litestar.datastructures import State
from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.config import WebSettings
from nujoomy_partner_gateway.bff.errors import BackendUnavailable
from nujoomy_partner_gateway.settings import load

ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


class ClosingService:
    """Answers the first request on a connection, then closes it on the next one without a word —
    what a server whose keep-alive timer fired does to a request already on the wire."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.requests.append(head.split(b"\r\n", 1)[0])
                length = next(
                    (
                        int(h.split(b":")[1])
                        for h in head.split(b"\r\n")
                        if h.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if answered:
                    break  # close without answering
                writer.write(ANSWER)
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def service() -> AsyncIterator[tuple[ClosingService, str]]:
    fake = ClosingService()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake, f"http://127.0.0.1:{port}"


def backends(url: str) -> Backends:
    state = State({"settings": load(wallet_pass_url=url), "web_settings": WebSettings(secret="x" * 32)})
    return Backends(state, token="t", mode="test")


async def test_a_read_on_a_connection_the_service_closed_is_sent_again(
    service: tuple[ClosingService, str],
) -> None:
    fake, url = service
    calls = backends(url)
    assert await calls.get("wallet_pass", "/internal/v1/a") == {"ok": True}
    assert await calls.get("wallet_pass", "/internal/v1/b") == {"ok": True}  # reused, closed, re-sent
    assert fake.connections == 2
    # /b reached the closing connection unanswered, then a fresh one answered it.
    assert fake.requests == [b"GET /internal/v1/a HTTP/1.1", *[b"GET /internal/v1/b HTTP/1.1"] * 2]


async def test_a_write_is_not_repeated(service: tuple[ClosingService, str]) -> None:
    fake, url = service
    calls = backends(url)
    assert await calls.get("wallet_pass", "/internal/v1/a") == {"ok": True}
    with pytest.raises(BackendUnavailable):
        await calls.post("wallet_pass", "/internal/v1/b", {"n": 1})
    assert [r for r in fake.requests if r.startswith(b"POST")] == [b"POST /internal/v1/b HTTP/1.1"]
