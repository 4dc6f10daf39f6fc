"""The webhook sender: a signed JSON POST per attempt over the lean HTTP/1.1 pool (http1.py).

Outside dev mode the URL is checked (edge/ssrf.py) before every attempt and the connection goes to
the address that check resolved and approved, never to a second lookup of the name, so DNS cannot
swap in a private address between the check and the connect. Redirects are not followed (one
could lead to an address the check never saw): a 3xx is an unsuccessful answer like any other.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import msgspec

from nujoomy_partner_gateway.edge.ssrf import check_url
from nujoomy_partner_gateway.http1 import Answer, ConnectError, Http1Pool, host_header, request_bytes


class _Target(msgspec.Struct, frozen=True):
    scheme: str
    host: str
    port: int
    target: bytes  # path and query, as sent on the request line
    host_header: bytes


@functools.lru_cache(maxsize=4096)
def _target(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConnectError(f"The URL cannot be used: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectError("The URL must be http(s) with a host")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        return _Target(
            parts.scheme,
            parts.hostname,
            port,
            path.encode("ascii"),
            host_header(parts.scheme, parts.hostname, port),
        )
    except UnicodeError as exc:
        raise ConnectError(f"The URL cannot be used: {exc}") from None


class WebhookSender:
    def __init__(self, *, timeout: float, dev_mode: bool) -> None:
        self._dev_mode = dev_mode
        self._pool = Http1Pool(timeout=timeout)

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST `body` to `url`. Raises WebhookUrlNotAllowed (the SSRF check) or http1.SendError."""
        address = await check_url(url, dev_mode=self._dev_mode)
        target = _target(url)
        request = request_bytes(b"POST", target.target, target.host_header, list(headers.items()), body)
        origin = (target.scheme, target.host, target.port, address or target.host)
        return await self._pool.request(origin, request)
