"""The unsubscribe links in customers' e-mails and SMS point at the platform's public URL, which is
this gateway: the page itself is the notification service's (it holds the member's language, the
business's look and the unsubscribes), so both methods are passed through as they are. GET shows the
page and changes nothing; POST (its button, or an RFC 8058 one-click from a mail client) unsubscribes.
"""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Request, Response, get, post

from nujoomy_partner_gateway.bff.backends import base_url, http_client
from nujoomy_partner_gateway.bff.errors import BackendUnavailable

PATH = "/unsubscribe/{token:str}"


async def _pass_through(request: Request[Any, Any, Any], token: str) -> Response[bytes]:
    state = request.app.state
    headers = {"content-type": request.headers.get("content-type", "")} if request.method == "POST" else {}
    try:
        answer = await http_client(state).request(
            request.method,
            f"{base_url(state, 'notification')}/unsubscribe/{token}",
            content=await request.body() if request.method == "POST" else None,
            headers=headers,
        )
    except httpx.HTTPError as exc:
        raise BackendUnavailable("The unsubscribe page is not available right now") from exc
    return Response(
        content=answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "text/html; charset=utf-8"),
        headers={"Cache-Control": "no-store"},
    )


@get(PATH)
async def unsubscribe_page(request: Request[Any, Any, Any], token: str) -> Response[bytes]:
    return await _pass_through(request, token)


@post(PATH, status_code=200)
async def unsubscribe(request: Request[Any, Any, Any], token: str) -> Response[bytes]:
    return await _pass_through(request, token)


ROUTES = [unsubscribe_page, unsubscribe]
