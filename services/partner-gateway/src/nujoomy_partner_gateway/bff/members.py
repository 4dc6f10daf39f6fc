"""Members: search, detail (balance, transactions, passes, messages), adjust/reverse, GDPR export/erase.

An adjustment is the ledger's manager-only `adjust` (signed points, a reason); every write carries the
idempotency key rendered into its form, so a double-submitted form posts once.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect
from nujoomy_kit.problems import InvalidInput

from nujoomy_partner_gateway.bff.confirm import unconfirmed
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.flash import Flash, redirect_with
from nujoomy_partner_gateway.bff.rendering import CsrfForm, form_as, message_for, page
from nujoomy_partner_gateway.bff.session import check_csrf, current_lang, require_session


class AdjustForm(CsrfForm, kw_only=True):
    points: int
    reason: str
    idempotency_key: str


class ReverseForm(CsrfForm, kw_only=True):
    reason: str
    idempotency_key: str


@get("/app/members")
async def members_page(
    request: Request[Any, Any, Any],
    email: str | None = None,
    phone: str | None = None,
    cursor: str | None = None,
) -> Response[Any]:
    session = await require_session(request)
    warnings: list[str] = []
    found: dict[str, Any] = {"data": [], "next_cursor": None}
    try:
        found = await session.backends(request).get(
            "ledger", "/internal/v1/members", email=email, phone=phone, cursor=cursor, limit=50
        )
    except (BackendError, BackendUnavailable):
        warnings.append("ledger")
    return page(
        request,
        session,
        "members.html.j2",
        members=found.get("data") or [],
        next_cursor=found.get("next_cursor"),
        q={"email": email, "phone": phone},
        warnings=warnings,
    )


async def _member_page(
    request: Request[Any, Any, Any], member_id: str, error: str | None = None
) -> Response[Any]:
    session = await require_session(request)
    backends = session.backends(request)
    results: tuple[Any, ...] = await asyncio.gather(
        backends.get("ledger", f"/internal/v1/members/{member_id}"),
        backends.get("ledger", f"/internal/v1/members/{member_id}/transactions", limit=50),
        backends.get("wallet_pass", f"/internal/v1/members/{member_id}/passes"),
        backends.get("notification", f"/internal/v1/members/{member_id}/messages"),
        return_exceptions=True,
    )
    member, txns, passes, messages = results
    if isinstance(member, BaseException):
        raise member
    warnings = [
        name
        for name, got in (("transactions", txns), ("messages", messages))
        if isinstance(got, BaseException)
    ]
    return page(
        request,
        session,
        "member.html.j2",
        m=member,
        transactions=[] if isinstance(txns, BaseException) else txns.get("data") or [],
        # wallet-pass answers 404 for a member with no pass yet: that is "none", not a failure
        passes=[] if isinstance(passes, BaseException) else passes.get("data") or [],
        messages=[] if isinstance(messages, BaseException) else messages.get("data") or [],
        warnings=warnings,
        error=error,
        idem=secrets.token_urlsafe(16),
    )


@get("/app/members/{member_id:str}")
async def member_page(request: Request[Any, Any, Any], member_id: str) -> Response[Any]:
    return await _member_page(request, member_id)


@post("/app/members/{member_id:str}/adjust")
async def adjust(request: Request[Any, Any, Any], member_id: str) -> Response[Any]:
    session = await require_session(request, "manager")
    form = await form_as(request, AdjustForm)
    await check_csrf(request, session, form.csrf)
    if form.points == 0 or not form.reason.strip():
        raise InvalidInput("Give a non-zero number of points and a reason")
    body = {
        "points": form.points,
        "reason": form.reason.strip()[:255],
        "idempotency_key": form.idempotency_key,
    }
    try:
        await session.backends(request).post("ledger", f"/internal/v1/members/{member_id}/adjust", body)
    except BackendError as exc:
        return await _member_page(request, member_id, error=message_for(exc, current_lang(request)))
    return Redirect(f"/app/members/{member_id}", status_code=303)


@post("/app/members/{member_id:str}/transactions/{txn_id:str}/reverse")
async def reverse(request: Request[Any, Any, Any], member_id: str, txn_id: str) -> Response[Any]:
    session = await require_session(request, "manager")
    form = await form_as(request, ReverseForm)
    await check_csrf(request, session, form.csrf)
    body = {"reason": form.reason.strip()[:200], "idempotency_key": form.idempotency_key}
    try:
        await session.backends(request).post("ledger", f"/internal/v1/transactions/{txn_id}/reverse", body)
    except BackendError as exc:
        return await _member_page(request, member_id, error=message_for(exc, current_lang(request)))
    return Redirect(f"/app/members/{member_id}", status_code=303)


@get("/app/members/{member_id:str}/export")
async def export(request: Request[Any, Any, Any], member_id: str) -> Response[bytes]:
    session = await require_session(request, "manager")
    data = await session.backends(request).get("ledger", f"/internal/v1/members/{member_id}/export")
    return Response(
        content=msgspec.json.encode(data),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{member_id}.json"'},
    )


@post("/app/members/{member_id:str}/erase")
async def erase(request: Request[Any, Any, Any], member_id: str) -> Response[Any]:
    session = await require_session(request, "manager")
    form = await form_as(request, CsrfForm)
    await check_csrf(request, session, form.csrf)
    if asked := await unconfirmed(request, session, "confirm_erase", back=f"/app/members/{member_id}"):
        return asked
    await session.backends(request).post("ledger", f"/internal/v1/members/{member_id}/erase")
    return await redirect_with(request, session.principal.subject, "/app/members", Flash(notice="erased"))


ROUTES = [members_page, member_page, adjust, reverse, export, erase]
