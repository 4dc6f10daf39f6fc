"""Members: search (name prefix, email, phone), pages both ways, CSV exports; detail (balance,
transactions, passes, messages), adjust/reverse, GDPR export/erase.

An adjustment is the ledger's manager-only `adjust` (signed points, a reason); every write carries the
idempotency key rendered into its form, so a double-submitted form posts once.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream

from nujoomy_partner_gateway.bff.confirm import unconfirmed
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.flash import Flash, redirect_with, typed
from nujoomy_partner_gateway.bff.rendering import CsrfForm, form_as, message_for, page
from nujoomy_partner_gateway.bff.session import check_csrf, current_lang, require_session
from nujoomy_partner_gateway.bff.tenant_facts import time_zone
from nujoomy_partner_gateway.web.dates import formatter
from nujoomy_partner_gateway.web.i18n import translator


class AdjustForm(CsrfForm, kw_only=True):
    points: int
    reason: str
    idempotency_key: str


class ReverseForm(CsrfForm, kw_only=True):
    reason: str
    idempotency_key: str


_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{3,}")


def search_params(q: str | None, email: str | None, phone: str | None) -> dict[str, str | None]:
    """One box for the counter: an email has an @, a phone is digits (and + ( ) - spaces), anything
    else is the start of a name."""
    text = (q or "").strip()
    if not text:
        return {"email": email, "phone": phone, "name": None}
    if "@" in text:
        return {"email": text, "phone": None, "name": None}
    if _PHONE.fullmatch(text):
        return {"email": None, "phone": text, "name": None}
    return {"email": None, "phone": None, "name": text[:120]}


@get("/app/members")
async def members_page(
    request: Request[Any, Any, Any],
    *,
    q: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    cursor: str | None = None,
    before: str | None = None,
) -> Response[Any]:
    session = await require_session(request)
    warnings: list[str] = []
    found: dict[str, Any] = {"data": [], "next_cursor": None, "prev_cursor": None}
    try:
        found = await session.backends(request).get(
            "ledger",
            "/internal/v1/members",
            **search_params(q, email, phone),
            cursor=cursor,
            before=before,
            limit=50,
        )
    except (BackendError, BackendUnavailable):
        warnings.append("ledger")
    kept = {k: v for k, v in {"q": q, "email": email, "phone": phone}.items() if v}
    return page(
        request,
        session,
        "members.html.j2",
        members=found.get("data") or [],
        next_url=_page_url(kept, cursor=found.get("next_cursor")),
        prev_url=_page_url(kept, before=found.get("prev_cursor")),
        q=q or email or phone or "",
        warnings=warnings,
    )


def _page_url(kept: dict[str, str], **where: Any) -> str | None:
    if not any(where.values()):
        return None
    return "/app/members?" + urlencode({**kept, **where})


@get("/app/exports/members.csv")
async def export_members(request: Request[Any, Any, Any]) -> Stream:
    return await _csv(request, "/internal/v1/reports/members.csv", "members")


@get("/app/exports/transactions.csv")
async def export_transactions(request: Request[Any, Any, Any]) -> Stream:
    return await _csv(request, "/internal/v1/reports/transactions.csv", "transactions")


async def _csv(request: Request[Any, Any, Any], path: str, name: str) -> Stream:
    """The ledger's rows pass straight through as they come: 100,000 members never sit in memory."""
    session = await require_session(request, "manager")
    body = await session.backends(request).stream("ledger", path, "text/csv")
    filename = f"{name}-{session.mode}-{datetime.now(UTC):%Y%m%d}.csv"
    return Stream(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@get("/app/members/{member_id:str}")
async def member_page(request: Request[Any, Any, Any], member_id: str) -> Response[Any]:
    session = await require_session(request)
    backends = session.backends(request)
    results: tuple[Any, ...] = await asyncio.gather(
        backends.get("ledger", f"/internal/v1/members/{member_id}"),
        backends.get("ledger", f"/internal/v1/members/{member_id}/transactions", limit=50),
        backends.get("wallet_pass", f"/internal/v1/members/{member_id}/passes"),
        backends.get("notification", f"/internal/v1/members/{member_id}/messages"),
        time_zone(backends),
        return_exceptions=True,
    )
    member, txns, passes, messages, tz = results
    if isinstance(member, BaseException):
        raise member
    warnings = [
        name
        for name, got in (("transactions", txns), ("messages", messages))
        if isinstance(got, BaseException)
    ]
    zone = "UTC" if isinstance(tz, BaseException) else tz
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
        idem=secrets.token_urlsafe(16),
        zone=zone,
        when=formatter(zone, translator(current_lang(request))),
    )


def _not_found(exc: Exception) -> bool:
    return isinstance(exc, BackendError) and exc.status == 404


@post("/app/members/{member_id:str}/adjust")
async def adjust(request: Request[Any, Any, Any], member_id: str) -> Response[Any]:
    session = await require_session(request, "manager")
    raw = await request.form()
    form = await form_as(request, AdjustForm)
    await check_csrf(request, session, form.csrf)
    body = {
        "points": form.points,
        "reason": form.reason.strip()[:255],
        "idempotency_key": form.idempotency_key,
    }
    back = f"/app/members/{member_id}"
    lang = current_lang(request)
    if form.points == 0 or not form.reason.strip():
        flash = Flash(error=translator(lang)("adjust_incomplete"), form=typed(raw))
        return await redirect_with(request, session.principal.subject, back, flash)
    try:
        await session.backends(request).post("ledger", f"/internal/v1/members/{member_id}/adjust", body)
    except (BackendError, BackendUnavailable) as exc:
        if _not_found(exc):
            raise  # another business's or mode's member: no page of it to go back to
        flash = Flash(error=message_for(exc, lang), form=typed(raw))
        return await redirect_with(request, session.principal.subject, back, flash)
    return await redirect_with(request, session.principal.subject, back, Flash(notice="adjusted"))


@post("/app/members/{member_id:str}/transactions/{txn_id:str}/reverse")
async def reverse(request: Request[Any, Any, Any], member_id: str, txn_id: str) -> Response[Any]:
    session = await require_session(request, "manager")
    raw = await request.form()
    form = await form_as(request, ReverseForm)
    await check_csrf(request, session, form.csrf)
    body = {"reason": form.reason.strip()[:200], "idempotency_key": form.idempotency_key}
    back = f"/app/members/{member_id}"
    try:
        await session.backends(request).post("ledger", f"/internal/v1/transactions/{txn_id}/reverse", body)
    except (BackendError, BackendUnavailable) as exc:
        if _not_found(exc):
            raise
        # the page has a reason box per transaction: the typed reason goes back into this one's
        flash = Flash(error=message_for(exc, current_lang(request)), form={**typed(raw), "txn": txn_id})
        return await redirect_with(request, session.principal.subject, back, flash)
    return await redirect_with(request, session.principal.subject, back, Flash(notice="reversed"))


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
    backends = session.backends(request)
    # Another business's or mode's member (or none) is not found before anything is asked: the
    # question would tell that the id exists.
    await backends.get("ledger", f"/internal/v1/members/{member_id}")
    if asked := await unconfirmed(request, session, "confirm_erase", back=f"/app/members/{member_id}"):
        return asked
    await backends.post("ledger", f"/internal/v1/members/{member_id}/erase")
    return await redirect_with(request, session.principal.subject, "/app/members", Flash(notice="erased"))


ROUTES = [members_page, export_members, export_transactions, member_page, adjust, reverse, export, erase]
