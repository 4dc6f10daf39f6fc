"""Public, content-addressed images: a name is the SHA-256 of the bytes, so they never change."""

from __future__ import annotations

import re

from litestar import Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db import assets as asset_db
from nujoomy_tenant.domain.errors import NotFound

_NAME = re.compile(r"([0-9a-f]{64})\.png")


@get("/assets/{name:str}", media_type="image/png")
async def asset(name: str, db: AsyncSession) -> Response[bytes]:
    match = _NAME.fullmatch(name)
    row = await asset_db.fetch(db, match.group(1)) if match else None
    if row is None:
        raise NotFound("No such image")
    return Response(
        content=row["data"],
        media_type=row["content_type"],
        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{row["sha256"]}"'},
    )


ROUTES = [asset]
