"""The staff session: the tenant service's tokens in cookies, refreshed here, CSRF-checked on writes.

Cookies are httpOnly + Secure + SameSite=Strict, so page scripts never see the tokens and no other
site can ride the session. The CSRF token is a double-submit value bound to the staff member by an
HMAC: a cookie planted by a sibling subdomain cannot forge one for this session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Literal

import msgspec
from litestar import Request
from litestar.datastructures import Cookie
from nujoomy_kit.problems import Forbidden, Unauthorized
from nujoomy_kit.tokens import ROLE_RANK, Principal, Role, TokenError, TokenVerifier

from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.config import (
    COOKIE_ACCESS,
    COOKIE_CSRF,
    COOKIE_LANG,
    COOKIE_MODE,
    COOKIE_REFRESH,
    web_settings,
)
from nujoomy_partner_gateway.bff.errors import BackendError, CsrfFailed
from nujoomy_partner_gateway.bff.flash import take_flash

SESSION_MAX_AGE = 30 * 24 * 3600  # the refresh token's own expiry decides; this just keeps the cookie
PENDING = "bff_cookies"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class StaffSession(msgspec.Struct, frozen=True):
    principal: Principal
    access_token: str
    mode: Literal["live", "test"]
    csrf: str

    @property
    def role(self) -> Role:
        return self.principal.role or "staff"

    def can(self, minimum: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[minimum]

    def backends(self, request: Request[Any, Any, Any]) -> Backends:
        return Backends(request.app.state, self.access_token, self.mode, app=request.app)


def csrf_token(secret: str, subject: str) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_csrf_mac(secret, nonce, subject)}"


def csrf_valid(secret: str, subject: str, token: str) -> bool:
    nonce, _, mac = token.partition(".")
    return bool(nonce and mac) and hmac.compare_digest(mac, _csrf_mac(secret, nonce, subject))


def _csrf_mac(secret: str, nonce: str, subject: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}:{subject}".encode(), hashlib.sha256).hexdigest()[:32]


def queue_cookie(request: Request[Any, Any, Any], cookie: Cookie) -> None:
    """Cookies set while serving a request; the session middleware adds them to whatever answers."""
    request.scope.setdefault("state", {}).setdefault(PENDING, []).append(cookie)  # type: ignore[typeddict-item]


def session_cookie(
    request: Request[Any, Any, Any],
    key: str,
    value: str,
    *,
    http_only: bool = True,
    path: str = "/",
    max_age: int = SESSION_MAX_AGE,
) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path=path,
        max_age=max_age if value else 0,
        httponly=http_only,
        secure=web_settings(request.app.state).secure_cookies,
        samesite="strict",
    )


async def start_session(request: Request[Any, Any, Any], tokens: dict[str, Any]) -> StaffSession:
    """Sets the cookies for a fresh token pair and returns the session they describe."""
    access = str(tokens["access_token"])
    verifier: TokenVerifier = request.app.state["token_verifier"]
    try:
        principal = await verifier.verify(access)
    except TokenError as exc:
        raise Unauthorized("The tenant service issued a token this gateway cannot verify") from exc
    csrf = csrf_token(web_settings(request.app.state).secret, principal.subject)
    queue_cookie(request, session_cookie(request, COOKIE_ACCESS, access))
    queue_cookie(request, session_cookie(request, COOKIE_REFRESH, str(tokens["refresh_token"])))
    queue_cookie(request, session_cookie(request, COOKIE_CSRF, csrf, http_only=False))
    return StaffSession(principal=principal, access_token=access, mode=current_mode(request), csrf=csrf)


def end_session(request: Request[Any, Any, Any]) -> None:
    for key in (COOKIE_ACCESS, COOKIE_REFRESH, COOKIE_CSRF):
        queue_cookie(request, session_cookie(request, key, ""))


def current_mode(request: Request[Any, Any, Any]) -> Literal["live", "test"]:
    return "test" if request.cookies.get(COOKIE_MODE) == "test" else "live"


def current_lang(request: Request[Any, Any, Any]) -> str:
    lang = request.cookies.get(COOKIE_LANG) or ""
    if lang in ("en", "ar"):
        return lang
    accept = request.headers.get("accept-language", "")
    return "ar" if accept.lower().startswith("ar") else "en"


async def load_session(request: Request[Any, Any, Any]) -> StaffSession | None:
    """The signed-in staff member, refreshing an expired access token once; None when signed out."""
    access = request.cookies.get(COOKIE_ACCESS)
    if not access:
        return None
    verifier: TokenVerifier = request.app.state["token_verifier"]
    try:
        principal = await verifier.verify(access)
    except TokenError:
        access = await _refresh(request)
        if access is None:
            return None
        try:
            principal = await verifier.verify(access)
        except TokenError:
            return None
    if principal.kind != "staff":
        return None
    secret = web_settings(request.app.state).secret
    csrf = request.cookies.get(COOKIE_CSRF, "")
    if not csrf or not csrf_valid(secret, principal.subject, csrf):
        csrf = csrf_token(secret, principal.subject)
        queue_cookie(request, session_cookie(request, COOKIE_CSRF, csrf, http_only=False))
    session = StaffSession(principal=principal, access_token=access, mode=current_mode(request), csrf=csrf)
    request.scope.setdefault("state", {})["bff_session"] = session  # type: ignore[typeddict-item]
    await take_flash(request, principal.subject)
    return session


async def _refresh(request: Request[Any, Any, Any]) -> str | None:
    refresh = request.cookies.get(COOKIE_REFRESH)
    if not refresh:
        return None
    try:
        tokens = await Backends(request.app.state).post("tenant", "/auth/refresh", {"refresh_token": refresh})
    except BackendError:
        end_session(request)  # spent or revoked: the family is gone, so is the session
        return None
    queue_cookie(request, session_cookie(request, COOKIE_ACCESS, str(tokens["access_token"])))
    queue_cookie(request, session_cookie(request, COOKIE_REFRESH, str(tokens["refresh_token"])))
    return str(tokens["access_token"])


async def require_session(request: Request[Any, Any, Any], minimum: Role = "staff") -> StaffSession:
    session = await load_session(request)
    if session is None:
        raise Unauthorized("Sign in first")
    if not session.can(minimum):
        raise Forbidden(f"This page needs the {minimum} role")
    return session


async def check_csrf(request: Request[Any, Any, Any], session: StaffSession, form_value: str = "") -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token") or form_value
    cookie = request.cookies.get(COOKIE_CSRF, "")
    secret = web_settings(request.app.state).secret
    if (
        not sent
        or not hmac.compare_digest(sent, cookie)
        or not csrf_valid(secret, session.principal.subject, sent)
    ):
        raise CsrfFailed()
