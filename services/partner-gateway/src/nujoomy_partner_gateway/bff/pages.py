"""Sign in and out, the live/test and language switches, and the overview page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect

from nujoomy_partner_gateway.bff.charts import bar_chart
from nujoomy_partner_gateway.bff.config import COOKIE_LANG, COOKIE_MODE
from nujoomy_partner_gateway.bff.rendering import CsrfForm, form_as, page
from nujoomy_partner_gateway.bff.session import (
    StaffSession,
    check_csrf,
    queue_cookie,
    require_session,
    session_cookie,
)


class SwitchForm(CsrfForm, kw_only=True):
    mode: str = ""
    lang: str = ""


class Overview(msgspec.Struct, kw_only=True):
    members: int | str = "—"
    passes_apple: int | str = "—"
    passes_google: int | str = "—"
    issued: int | str = "—"
    redeemed: int | str = "—"
    expired: int | str = "—"
    outstanding: int | str = "—"
    days: list[dict[str, Any]] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)


@post("/app/mode")
async def switch_mode(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await require_session(request)
    form = await form_as(request, SwitchForm)
    await check_csrf(request, session, form.csrf)
    mode = "test" if form.mode == "test" else "live"
    queue_cookie(request, session_cookie(request, COOKIE_MODE, mode, http_only=False))
    return Redirect(request.headers.get("referer") or "/app", status_code=303)


@post("/app/lang")
async def switch_lang(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await require_session(request)
    form = await form_as(request, SwitchForm)
    await check_csrf(request, session, form.csrf)
    lang = "ar" if form.lang == "ar" else "en"
    queue_cookie(request, session_cookie(request, COOKIE_LANG, lang, http_only=False))
    return Redirect(request.headers.get("referer") or "/app", status_code=303)


async def load_overview(request: Request[Any, Any, Any], session: StaffSession) -> Overview:
    """Every figure in one round trip from the browser; a sibling that fails blanks its own tiles only."""
    backends = session.backends(request)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=29)
    results: tuple[Any, ...] = await asyncio.gather(
        backends.get("ledger", "/internal/v1/reports/outstanding"),
        backends.get(
            "ledger", "/internal/v1/reports/daily", **{"from": start.isoformat(), "to": today.isoformat()}
        ),
        backends.get("wallet_pass", "/internal/v1/passes/summary"),
        return_exceptions=True,
    )
    outstanding, daily, passes = results
    result = Overview()
    if isinstance(outstanding, dict):
        result.members = int(outstanding.get("members", 0))
        result.outstanding = int(outstanding.get("outstanding_points", 0))
    else:
        result.warnings.append("ledger")
    if isinstance(daily, dict):
        days = list(daily.get("data") or [])
        result.days = days
        result.issued = sum(int(d.get("issued", 0)) for d in days)
        result.redeemed = sum(int(d.get("redeemed", 0)) for d in days)
        result.expired = sum(int(d.get("expired", 0)) for d in days)
    elif "ledger" not in result.warnings:
        result.warnings.append("ledger")
    if isinstance(passes, dict):
        result.passes_apple = int(passes.get("apple", 0))
        result.passes_google = int(passes.get("google", 0))
    else:
        result.warnings.append("wallet_pass")
    return result


@get("/app")
async def overview_page(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await require_session(request)
    if not session.can("manager"):
        return Redirect("/app/scan", status_code=303)  # reports are manager+; staff live in the scanner
    o = await load_overview(request, session)
    # Thirty days on the axis, zero where the ledger reported nothing, so bars keep their width.
    today = datetime.now(UTC).date()
    labels = [(today - timedelta(days=29 - i)).isoformat() for i in range(30)]
    by_day = {str(d.get("day") or d.get("date")): d for d in o.days}

    def series(field: str) -> list[int]:
        return [int(by_day.get(day, {}).get(field) or 0) for day in labels]

    # The ledger's daily report counts transactions per day: each one is a scan at the counter or an
    # API call, which is what "scans per day" shows until the ledger tells them apart.
    counted = any("transactions" in d for d in o.days) or not o.days
    scans_chart = (
        bar_chart(labels, [("transactions", series("transactions"), "#2f6fed")])
        if counted
        else '<p class="muted">—</p>'
    )
    points_chart = bar_chart(
        labels, [("issued", series("issued"), "#1f9d55"), ("redeemed", series("redeemed"), "#d9822b")]
    )
    return page(
        request,
        session,
        "overview.html.j2",
        o=o,
        warnings=o.warnings,
        scans_chart=scans_chart,
        points_chart=points_chart,
    )


@get("/bff/overview")
async def overview_json(request: Request[Any, Any, Any]) -> Overview:
    session = await require_session(request, "manager")
    return await load_overview(request, session)


ROUTES = [switch_mode, switch_lang, overview_page]
JSON_ROUTES = [overview_json]
