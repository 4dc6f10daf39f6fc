"""Signing in to the dashboard as a browser does: read the form (its CSRF token and the `nj_login`
cookie the token is bound to), then post it back with both."""

from __future__ import annotations

import re
from typing import Any

import httpx

_TOKEN = re.compile(r'name="_csrf" value="([^"]+)"')


async def login_form(http: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """The form's token and the Cookie header to send it with (also over plain http, where a client
    keeps a Secure cookie but will not send it)."""
    form = await http.get("/app/login")
    assert form.status_code == 200, form.text
    found = _TOKEN.search(form.text)
    nonce = form.cookies.get("nj_login") or http.cookies.get("nj_login")
    # Missing ones are sent as missing: the tests of the refusal assert it themselves.
    return (found.group(1) if found else ""), ({"Cookie": f"nj_login={nonce}"} if nonce else {})


async def post_login(
    http: httpx.AsyncClient, tenant: str, email: str, password: str, **kw: Any
) -> httpx.Response:
    token, headers = await login_form(http)
    data = {"tenant": tenant, "email": email, "password": password, "_csrf": token}
    return await http.post(
        "/app/login", data=data, headers={**headers, **kw.pop("headers", {})}, follow_redirects=False, **kw
    )
