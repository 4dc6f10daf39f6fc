"""Post → redirect → get. A form handler answers 303 and leaves what the next page must show (a
notice, an error with the values typed, a one-time secret) in a short-lived record in Redis: the
browser holds only a random id in an httpOnly cookie, so a secret never travels in a URL or a cookie,
and the record is read once — a refresh shows the plain page, and repeats nothing."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect

from nujoomy_partner_gateway.bff.config import COOKIE_FLASH

# Long enough for a slow redirect on a phone, short enough that a forgotten secret does not linger.
FLASH_TTL_SECONDS = 120
FLASH_STATE = "bff_flash"


class Flash(msgspec.Struct, kw_only=True):
    notice: str | None = None  # a catalog key
    error: str | None = None  # already in the reader's language
    secret: str | None = None  # an API key or webhook signing secret, shown once
    link: str | None = None  # an invite's one-time password link, shown once
    form: dict[str, str] = msgspec.field(default_factory=dict)  # what was typed, kept after an error


def _key(request: Request[Any, Any, Any], subject: str, flash_id: str) -> str:
    prefix = request.app.state["settings"].redis_prefix
    return f"{prefix}web:flash:{subject}:{flash_id}"


def _cookie(request: Request[Any, Any, Any], value: str) -> Cookie:
    from nujoomy_partner_gateway.bff.session import session_cookie  # session reads flashes: no cycle

    return session_cookie(request, COOKIE_FLASH, value, path="/app", max_age=FLASH_TTL_SECONDS)


async def redirect_with(request: Request[Any, Any, Any], subject: str, url: str, flash: Flash) -> Redirect:
    """The answer to every dashboard form: 303 to the page, which shows `flash` once."""
    from nujoomy_partner_gateway.bff.session import queue_cookie  # session reads flashes: no cycle

    flash_id = secrets.token_urlsafe(18)
    await request.app.state["redis"].set(
        _key(request, subject, flash_id), msgspec.json.encode(flash), ex=FLASH_TTL_SECONDS
    )
    queue_cookie(request, _cookie(request, flash_id))
    return Redirect(url, status_code=303)


async def take_flash(request: Request[Any, Any, Any], subject: str) -> None:
    """Reads and deletes the record named by the cookie (a page GET only), for `page()` to render."""
    from nujoomy_partner_gateway.bff.session import queue_cookie  # session reads flashes: no cycle

    flash_id = request.cookies.get(COOKIE_FLASH)
    if not flash_id or request.method != "GET":
        return
    queue_cookie(request, _cookie(request, ""))
    raw = await request.app.state["redis"].getdel(_key(request, subject, flash_id))
    if raw:
        request.scope.setdefault("state", {})[FLASH_STATE] = msgspec.json.decode(raw, type=Flash)  # type: ignore[typeddict-item]


def current_flash(request: Request[Any, Any, Any]) -> Flash:
    found = request.scope.get("state", {}).get(FLASH_STATE)
    return found if isinstance(found, Flash) else Flash()


def typed(form: Mapping[str, Any]) -> dict[str, str]:
    """What the person typed, minus the form's tokens: refilled into the form after an error."""
    return {k: str(v) for k, v in form.items() if isinstance(v, str) and not k.startswith("_")}
