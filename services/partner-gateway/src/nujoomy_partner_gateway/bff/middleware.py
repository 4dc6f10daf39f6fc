"""Adds the cookies a handler queued (session refresh, CSRF) to whatever response goes out.

A refresh can happen deep inside a page handler or an error path; doing it here means no handler
can forget to pass the rotated tokens back to the browser.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from nujoomy_partner_gateway.bff.session import PENDING

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
