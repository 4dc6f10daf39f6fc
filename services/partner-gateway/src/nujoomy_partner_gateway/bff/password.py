"""Setting a password from the one-time link an invite (or a reset) sends: /app/password?token=…"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.rendering import form_as, message_for, page
from nujoomy_partner_gateway.bff.session import current_lang


class PasswordForm(msgspec.Struct, kw_only=True):
    token: str = ""
    password: str = ""


@get("/app/password")
async def password_page(request: Request[Any, Any, Any], token: str = "") -> Response[Any]:
    return page(request, None, "password.html.j2", token=token)


@post("/app/password")
async def set_password(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await form_as(request, PasswordForm)
    try:
        await Backends(request.app.state).post(
            "tenant", "/auth/password", {"token": form.token, "password": form.password}
        )
    except (BackendError, BackendUnavailable) as exc:
        status = exc.status if exc.status < 500 else 503
        error = message_for(exc, current_lang(request))
        return page(request, None, "password.html.j2", status=status, token=form.token, error=error)
    return page(request, None, "password.html.j2", done=True)


ROUTES = [password_page, set_password]
