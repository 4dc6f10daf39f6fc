"""Sign in and out, the live/test and language switches, and the overview page."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
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
    current_lang,
    queue_cookie,
    require_session,
    session_cookie,
)
from nujoomy_partner_gateway.bff.tenant_facts import time_zone
from nujoomy_partner_gateway.web import dates
from nujoomy_partner_gateway.web.i18n import translator


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
    time_zone: str = "UTC"
    start: str = ""
    end: str = ""
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


RANGES = (7, 30, 90)


def range_days(days: int | None) -> int:
    return days if days in RANGES else 30


async def load_overview(
    request: Request[Any, Any, Any], session: StaffSession, days: int = 30, tz: str | None = None
) -> Overview:
    """Every figure in one round trip from the browser; a sibling that fails blanks its own tiles only.
    Days are the business's days (its time zone); a reversal is netted out by the ledger."""
    backends = session.backends(request)
    zone = tz or await time_zone(backends)
    today = datetime.now(dates.zone(zone)).date()
    start = today - timedelta(days=days - 1)
    period = {"from": start.isoformat(), "to": today.isoformat(), "tz": zone}
    results: tuple[Any, ...] = await asyncio.gather(
        backends.get("ledger", "/internal/v1/reports/outstanding"),
        backends.get("ledger", "/internal/v1/reports/daily", **period),
        backends.get("wallet_pass", "/internal/v1/passes/summary"),
        return_exceptions=True,
    )
    outstanding, daily, passes = results
    result = Overview(time_zone=zone, start=start.isoformat(), end=today.isoformat())
    if isinstance(outstanding, dict):
        result.members = int(outstanding.get("members", 0))
        result.outstanding = int(outstanding.get("outstanding_points", 0))
    else:
        result.warnings.append("ledger")
    if isinstance(daily, dict):
        rows = list(daily.get("data") or [])
        result.days = rows
        result.issued = sum(int(d.get("issued", 0)) for d in rows)
        result.redeemed = sum(int(d.get("redeemed", 0)) for d in rows)
        result.expired = sum(int(d.get("expired", 0)) for d in rows)
    elif "ledger" not in result.warnings:
        result.warnings.append("ledger")
    if isinstance(passes, dict):
        result.passes_apple = int(passes.get("apple", 0))
        result.passes_google = int(passes.get("google", 0))
    else:
        result.warnings.append("wallet_pass")
    return result


@get("/app")
async def overview_page(request: Request[Any, Any, Any], days: int | None = None) -> Response[Any]:
    session = await require_session(request)
    if not session.can("manager"):
        return Redirect("/app/scan", status_code=303)  # reports are manager+; staff live in the scanner
    shown = range_days(days)
    o = await load_overview(request, session, shown)
    t = translator(current_lang(request))
    # Every day of the period on the axis, zero where the ledger reported nothing.
    first = date.fromisoformat(o.start)
    axis = [first + timedelta(days=i) for i in range(shown)]
    labels = [dates.day_label(day, t) for day in axis]
    by_day = {str(d.get("day") or d.get("date")): d for d in o.days}

    def series(field: str) -> list[int]:
        return [int(by_day.get(day.isoformat(), {}).get(field) or 0) for day in axis]

    # The ledger counts transactions per day (net of undone ones): each is a scan at the counter or an
    # API call, which is what "scans per day" shows until the ledger tells them apart.
    words = {"table_label": t("chart_table"), "day_word": t("day")}
    scans_chart = bar_chart(
        labels,
        [(t("transactions_per_day"), series("transactions"), "#2f6fed")],
        caption=t("scans_per_day"),
        **words,
    )
    points_chart = bar_chart(
        labels,
        [
            (t("points_issued"), series("issued"), "#1f9d55"),
            (t("points_redeemed"), series("redeemed"), "#b85c00"),
        ],
        caption=f"{t('points_issued')} / {t('points_redeemed')}",
        **words,
    )
    return page(
        request,
        session,
        "overview.html.j2",
        o=o,
        warnings=o.warnings,
        scans_chart=scans_chart,
        points_chart=points_chart,
        shown=shown,
        ranges=RANGES,
    )


@get("/bff/overview")
async def overview_json(request: Request[Any, Any, Any], days: int | None = None) -> Overview:
    session = await require_session(request, "manager")
    return await load_overview(request, session, range_days(days))


ROUTES = [switch_mode, switch_lang, overview_page]
JSON_ROUTES = [overview_json]
