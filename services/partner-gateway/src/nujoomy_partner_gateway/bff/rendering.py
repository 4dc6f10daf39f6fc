"""Page plumbing shared by the page handlers: rendering with the session's language, form decoding,
and turning failures into pages (sign-in redirect, 403 page) instead of problem+json."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.response import Redirect
from nujoomy_kit.problems import DomainError, Forbidden, Unauthorized

from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable, CsrfFailed
from nujoomy_partner_gateway.bff.flash import current_flash
from nujoomy_partner_gateway.bff.session import StaffSession, current_lang
from nujoomy_partner_gateway.web import render
from nujoomy_partner_gateway.web.i18n import EN, translator

T = TypeVar("T")


class CsrfForm(msgspec.Struct, kw_only=True):
    """Every page form carries the session's CSRF token as `_csrf`."""

    csrf: str = msgspec.field(default="", name="_csrf")


def page(
    request: Request[Any, Any, Any],
    session: StaffSession | None,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> Response[str]:
    context.setdefault("flash", current_flash(request))
    return render(request, template, lang=current_lang(request), status=status, session=session, **context)


async def form_as(request: Request[Any, Any, Any], kind: type[T]) -> T:
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise DomainError(str(exc)) from exc


# A problem's `field` (the tenant's names) -> the catalog label the form shows for it.
FIELD_LABELS = {
    "name": "title",
    "cost": "cost",
    "address": "address",
    "email": "email",
    "value": "role",
    "role": "role",
    "points_per_unit": "field_points_per_unit",
    "earn_rule.points_per_unit": "field_points_per_unit",
    "earn_rule.minimum_spend": "field_minimum_spend",
    "expiry.kind": "expiry",
    "expiry.months": "expiry_months",
    "wording.terms": "terms",
    "wording.balance_label": "points_label",
    "wording.program_name": "program_name",
}


def message_for(exc: DomainError, lang: str) -> str:
    """A refusal in the reader's language: by its problem code (and field) where the catalog knows
    it, else the service's own words."""
    t = translator(lang)
    if isinstance(exc, BackendUnavailable):
        return t("unavailable")
    key = f"problem_{exc.code}"
    if key not in EN:
        return str(exc.detail or exc.title)
    if "{field}" not in EN[key]:
        return t(key)
    field = str(exc.extra.get("field") or "")
    if field not in FIELD_LABELS:
        return t("problem_check_values")
    return t(key, field=t(FIELD_LABELS[field]))


def page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Page routes answer humans: a sign-in redirect, a 403 page, or an error page with the reason."""
    if isinstance(exc, Unauthorized):
        return Redirect("/app/login", status_code=303)
    lang = current_lang(request)
    t = translator(lang)
    session = request.scope.get("state", {}).get("bff_session")
    if isinstance(exc, Forbidden) and not isinstance(exc, BackendError):
        if isinstance(exc, CsrfFailed):
            title, body = t("csrf_failed_title"), t("csrf_failed_body")
        else:
            title = t("forbidden_title")
            body = t("forbidden_body") if exc.code == "forbidden" else exc.title
        return page(request, session, "error.html.j2", status=403, code=exc.code, title=title, body=body)
    if isinstance(exc, DomainError):
        return page(
            request,
            session,
            "error.html.j2",
            status=exc.status,
            code=exc.code,
            title=exc.title,
            body=message_for(exc, lang),
        )
    raise exc


PAGE_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {DomainError: page_error}
