"""Server-rendered pages: Jinja2 templates, one stylesheet, a little vanilla JS, English and Arabic."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import MediaType, Request, Response

from nujoomy_partner_gateway.web.dates import zone_place
from nujoomy_partner_gateway.web.i18n import translator

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_PATH = "/static/web"


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    request: Request[Any, Any, Any], template: str, *, lang: str, status: int = 200, **context: Any
) -> Response[str]:
    html = (
        environment()
        .get_template(template)
        .render(
            t=translator(lang),
            zone_place=lambda name: zone_place(name, lang, translator(lang)),
            lang=lang,
            dir="rtl" if lang == "ar" else "ltr",
            static=STATIC_PATH,
            path=request.url.path,
            **context,
        )
    )
    return Response(
        content=html,
        status_code=status,
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-store"},
    )
