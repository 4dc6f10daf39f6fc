"""Adds the cookies a handler queued (session refresh, CSRF) to whatever response goes out, and the
security headers: the page ones on the web routes, Strict-Transport-Security on everything.

A refresh can happen deep inside a page handler or an error path; doing it here means no handler
can forget to pass the rotated tokens back to the browser.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from nujoomy_partner_gateway.bff.config import web_settings
from nujoomy_partner_gateway.bff.session import PENDING

# A year, every subdomain of the gateway's host too (RFC 6797). Not `preload`: that is a promise to
# browser vendors the operator makes for the whole domain, not something one service can decide.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob: http: https:; style-src 'self' 'unsafe-inline'; "
        b"media-src 'self' blob:; frame-ancestors 'none'",
    ),
]


def session_cookies_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers") or [])
                for cookie in scope.get("state", {}).get(PENDING, []):
                    name, value = cookie.to_encoded_header()
                    headers.append((name, value))
                headers.extend(SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_cookies)

    return middleware


def strict_transport_middleware(app: ASGIApp) -> ASGIApp:
    """HSTS on every response of the gateway (partner API, pages, static files, health) whenever its
    cookies are Secure, i.e. it is served over https: the switch that allows plain-http development
    (NUJOOMY_WEB_SECURE_COOKIES=false) turns both off. Browsers ignore the header over plain http
    (RFC 6797 §8.1), so a local http://127.0.0.1 is not pinned either way."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not web_settings(scope["app"].state).secure_cookies:  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*(message.get("headers") or []), HSTS]}
            await send(message)

        await app(scope, receive, send_with_hsts)

    return middleware
