"""Setting a password from the one-time link an invite (or a reset) sends: /app/password?token=…

The form posts, then redirects back to the page (bff/flash.py): a refresh shows the page again and
never spends the link a second time. After a refusal the link's token comes back through the flash
record, so the page can still be used; the password itself is never kept."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.flash import Flash, current_flash, redirect_with, take_flash
from nujoomy_partner_gateway.bff.rendering import form_as, message_for, page
from nujoomy_partner_gateway.bff.session import current_lang

PAGE = "/app/password"
# Nobody is signed in here: the flash record is found by its random id alone.
SUBJECT = "password-link"


class PasswordForm(msgspec.Struct, kw_only=True):
    token: str = ""
    password: str = ""


@get(PAGE)
async def password_page(request: Request[Any, Any, Any], token: str = "") -> Response[Any]:
    await take_flash(request, SUBJECT)
    flash = current_flash(request)
    return page(
        request,
        None,
        "password.html.j2",
        token=token or flash.form.get("token", ""),
        done=flash.notice == "password_set",
        error=flash.error,
        flash=Flash(),  # this page shows its own outcome in the form
    )


@post(PAGE)
async def set_password(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await form_as(request, PasswordForm)
    try:
        await Backends(request.app.state).post(
            "tenant", "/auth/password", {"token": form.token, "password": form.password}
        )
    except (BackendError, BackendUnavailable) as exc:
        flash = Flash(error=message_for(exc, current_lang(request)), form={"token": form.token})
        return await redirect_with(request, SUBJECT, PAGE, flash)
    return await redirect_with(request, SUBJECT, PAGE, Flash(notice="password_set"))


ROUTES = [password_page, set_password]
