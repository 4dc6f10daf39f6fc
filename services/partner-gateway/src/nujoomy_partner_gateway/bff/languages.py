"""The customer's language on the public pages (join, preferences): what they picked on the page, then
what their browser asks for (Accept-Language, RFC 9110 §12.5.4), then the business's own locale."""

from __future__ import annotations

from typing import Any

from litestar import Request

from nujoomy_partner_gateway.bff.config import COOKIE_LANG
from nujoomy_partner_gateway.web.i18n import CATALOGS


def accepted_language(header: str | None) -> str | None:
    """The most preferred language in `header` that the pages speak; None when none of them is."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")[:20]):  # bounded: a header is untrusted
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        base = tag.strip()[:2].lower()
        if base in CATALOGS and quality > 0:
            ranked.append((-quality, position, base))
    return min(ranked)[2] if ranked else None


def customer_lang(request: Request[Any, Any, Any], *chosen: Any, fallback: Any = None) -> str:
    """`chosen`: languages the customer picked (the page's switch, a form field, their member record),
    most specific first; then the dashboard's cookie, the browser's Accept-Language, `fallback`."""
    picks = (request.query_params.get("lang"), *chosen, request.cookies.get(COOKIE_LANG))
    for value in picks:
        base = str(value or "")[:2].lower()
        if base in CATALOGS:
            return base
    browser = accepted_language(request.headers.get("accept-language"))
    if browser:
        return browser
    base = str(fallback or "")[:2].lower()
    return base if base in CATALOGS else "en"
