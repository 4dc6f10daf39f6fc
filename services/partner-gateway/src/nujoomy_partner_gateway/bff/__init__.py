"""The dashboard's backend-for-frontend: the pages (/app, /join) and the JSON calls their scripts make
(/bff), over the internal APIs, authenticated by the staff session cookies."""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.static_files import create_static_files_router

from nujoomy_partner_gateway.bff import (
    catalog,
    developers,
    join,
    members,
    pages,
    password,
    preferences,
    program,
    scan,
    sign_in,
    unsubscribe,
)
from nujoomy_partner_gateway.bff.middleware import session_cookies_middleware
from nujoomy_partner_gateway.bff.rendering import PAGE_EXCEPTION_HANDLERS
from nujoomy_partner_gateway.web import STATIC_DIR, STATIC_PATH


def web_route_handlers() -> list[Any]:
    page_routes = [
        *sign_in.ROUTES,
        *pages.ROUTES,
        *password.ROUTES,
        *scan.ROUTES,
        *program.ROUTES,
        *developers.ROUTES,
        *members.ROUTES,
        *join.ROUTES,
        *preferences.ROUTES,
        *catalog.ROUTES,
        *unsubscribe.ROUTES,
    ]
    json_routes = [*pages.JSON_ROUTES, *scan.JSON_ROUTES, *program.JSON_ROUTES]
    return [
        Router(
            path="/",
            route_handlers=page_routes,
            middleware=[session_cookies_middleware],
            exception_handlers=PAGE_EXCEPTION_HANDLERS,
            include_in_schema=False,
        ),
        Router(
            path="/",
            route_handlers=json_routes,
            middleware=[session_cookies_middleware],
            # the pages' own calls, not an API to build on: kept out of the OpenAPI schema
            include_in_schema=False,
        ),
        create_static_files_router(path=STATIC_PATH, directories=[STATIC_DIR], include_in_schema=False),
    ]
