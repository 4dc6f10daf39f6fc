"""Content-addressed image bytes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db.tables import assets
from nujoomy_tenant.domain.images import Png


async def store(db: AsyncSession, images: Iterable[Png]) -> None:
    rows = {
        png.sha256: {
            "sha256": png.sha256,
            "content_type": "image/png",
            "data": png.data,
            "width": png.width,
            "height": png.height,
        }
        for png in images
    }
    if rows:
        # Same bytes, same name: a second upload of the same image is a no-op.
        await db.execute(pg_insert(assets).values(list(rows.values())).on_conflict_do_nothing())


async def fetch(db: AsyncSession, sha256: str) -> RowMapping | None:
    return (await db.execute(select(assets).where(assets.c.sha256 == sha256))).mappings().first()
