"""`/docs`: where people look for the API reference; the rendered OpenAPI lives at /schema/docs."""

from __future__ import annotations

from litestar import get
from litestar.response import Redirect


@get("/docs", include_in_schema=False)
async def docs() -> Redirect:
    return Redirect("/schema/docs", status_code=308)
