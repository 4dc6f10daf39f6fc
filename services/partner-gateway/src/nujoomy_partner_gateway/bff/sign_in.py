"""Sign in and out: the form, its CSRF token, the per-address limit, and the hand-off to the tenant
service with the browser's address.

Before there is a session there is nothing to bind a CSRF token to, so the form page sets `nj_login`
(a random nonce, httpOnly, SameSite=Strict) and the form carries a token HMAC-bound to that nonce. A
page on another site can neither read the token nor make the browser send the cookie with its post,
so it cannot sign a visitor into the attacker's account (login CSRF).

The tenant service counts sign-in attempts per client address; the gateway forwards the address it
believes (`client_address.py`: the peer, or the right-most hop our own proxies appended) with an
internal token allowed to name it, so each browser is counted as itself and not every dashboard and
scanner sign-in as the gateway's.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from typing import Any

import redis.asyncio as redis
import structlog
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect
from nujoomy_kit.problems import DomainError
from nujoomy_kit.resources import PLATFORM_TENANT
from nujoomy_kit.tokens import InternalTokenIssuer

from nujoomy_partner_gateway.bff.address_limit import address_of, count_post, take_back
from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.config import COOKIE_LANG, COOKIE_LOGIN, COOKIE_REFRESH, web_settings
from nujoomy_partner_gateway.bff.errors import (
    BackendError,
    BackendUnavailable,
    CsrfFailed,
    SignInRateLimited,
    SignInUnavailable,
)
from nujoomy_partner_gateway.bff.rendering import CsrfForm, form_as, message_for, page
from nujoomy_partner_gateway.bff.session import (
    check_csrf,
    csrf_token,
    csrf_valid,
    current_lang,
    end_session,
    load_session,
    queue_cookie,
    session_cookie,
    start_session,
)
from nujoomy_partner_gateway.settings import Settings
from nujoomy_partner_gateway.web.i18n import translator

log = structlog.get_logger("nujoomy.web.sign_in")

FORWARD_SCOPE = "auth:forward"  # the tenant service believes Nujoomy-Client-Address only with this
RATE_BUCKET = "login"


class LoginForm(CsrfForm, kw_only=True):
    tenant: str = ""
    email: str = ""
    password: str = ""


def login_form_token(request: Request[Any, Any, Any]) -> str:
    """A token for the sign-in form, bound to this browser's `nj_login` nonce (set here if missing)."""
    nonce = request.cookies.get(COOKIE_LOGIN, "")
    if len(nonce) < 16:
        nonce = secrets.token_urlsafe(16)
        cookie = Cookie(
            key=COOKIE_LOGIN,
            value=nonce,
            path="/app/login",
            httponly=True,
            secure=web_settings(request.app.state).secure_cookies,
            samesite="strict",
        )
        queue_cookie(request, cookie)
    return csrf_token(web_settings(request.app.state).secret, f"login:{nonce}")


def check_login_csrf(request: Request[Any, Any, Any], sent: str) -> None:
    nonce = request.cookies.get(COOKIE_LOGIN, "")
    secret = web_settings(request.app.state).secret
    if len(nonce) < 16 or not sent or not csrf_valid(secret, f"login:{nonce}", sent):
        raise CsrfFailed()


def login_page_response(
    request: Request[Any, Any, Any], *, status: int = 200, error: str | None = None, **context: Any
) -> Response[Any]:
    return page(
        request, None, "login.html.j2", status=status, error=error, csrf=login_form_token(request), **context
    )


async def count_attempt(request: Request[Any, Any, Any], address: str) -> bool:
    """Counts this post against the address's minute; False when Redis is away and we fail open."""
    try:
        count, ttl = await count_post(request, RATE_BUCKET, address)
    except (redis.RedisError, OSError) as exc:
        log.warning("login_rate_unavailable", error=repr(exc))
        settings: Settings = request.app.state["settings"]
        if settings.rate_limit_fail_closed:
            raise SignInUnavailable() from exc
        return False
    if count > web_settings(request.app.state).login_rate_per_minute:
        raise SignInRateLimited(ttl)
    return True


async def authenticate(request: Request[Any, Any, Any], form: LoginForm, address: str) -> dict[str, Any]:
    issuer: InternalTokenIssuer = request.app.state["internal_issuer"]
    token = issuer.issue(PLATFORM_TENANT, "live", to="tenant", scopes=(FORWARD_SCOPE,))
    body = {"tenant": form.tenant.strip().lower(), "email": form.email.strip(), "password": form.password}
    # A peer that is no IP (a unix socket, an in-process test client) has nothing to forward.
    forward = {"Nujoomy-Client-Address": address} if is_ip(address) else {}
    tokens = await Backends(request.app.state, token).post("tenant", "/auth/login", body, headers=forward)
    return dict(tokens)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def refusal(request: Request[Any, Any, Any], exc: DomainError, form: LoginForm) -> Response[Any]:
    """The sign-in page again, with the reason in the visitor's language."""
    t = translator(current_lang(request))
    retry = str(exc.extra.get("retry_after") or getattr(exc, "headers", {}).get("Retry-After") or "")
    headers: dict[str, str] = {}
    if exc.code == "too_many_attempts" and retry.isdigit():
        status, error, headers = 429, t("too_many_attempts", seconds=retry), {"Retry-After": retry}
    elif exc.code == "login_unavailable":
        status, error, headers = 503, t("login_unavailable"), {"Retry-After": retry or "5"}
    elif isinstance(exc, BackendError) and exc.status in (400, 401, 404, 422):
        status, error = 401, t("sign_in_failed")
    else:
        status, error = exc.status, message_for(exc, current_lang(request))
    response = login_page_response(request, status=status, error=error, tenant=form.tenant, email=form.email)
    response.headers.update(headers)
    return response


@get("/app/login")
async def login_page(request: Request[Any, Any, Any], lang: str | None = None) -> Response[Any]:
    if lang in ("en", "ar"):
        queue_cookie(request, session_cookie(request, COOKIE_LANG, lang, http_only=False))
        return Redirect("/app/login", status_code=303)
    if await load_session(request) is not None:
        return Redirect("/app", status_code=303)
    return login_page_response(request)


@post("/app/login")
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await form_as(request, LoginForm)
    check_login_csrf(request, form.csrf)
    address = address_of(request)
    try:
        counted = await count_attempt(request, address)
        tokens = await authenticate(request, form, address)
    except (BackendError, BackendUnavailable, SignInRateLimited, SignInUnavailable) as exc:
        return refusal(request, exc, form)
    if counted:  # a success is not an attempt against the address's minute
        with contextlib.suppress(redis.RedisError, OSError):
            await take_back(request, RATE_BUCKET, address)
    await start_session(request, tokens)
    target = "/app/scan" if (tokens.get("staff") or {}).get("role") == "staff" else "/app"
    return Redirect(target, status_code=303)


@post("/app/logout")
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await load_session(request)
    if session is not None:
        form = await form_as(request, CsrfForm)
        await check_csrf(request, session, form.csrf)
        refresh = request.cookies.get(COOKIE_REFRESH)
        if refresh:
            # the cookies go regardless; an unrevoked family still expires on its own
            with contextlib.suppress(BackendError, BackendUnavailable):
                await Backends(request.app.state).post("tenant", "/auth/logout", {"refresh_token": refresh})
    end_session(request)
    return Redirect("/app/login", status_code=303)


ROUTES = [login_page, login, logout]
