"""Tenant template overrides; the built-in defaults (domain/defaults.py) answer when there is none."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db.tables import templates
from nujoomy_notification.domain.rendering import TemplateSource

TemplateKey = tuple[str, str, str]  # (kind, locale, channel)


async def get_override(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, key: TemplateKey
) -> TemplateSource | None:
    kind, locale, channel = key
    row = (
        await db.execute(
            select(templates.c.subject, templates.c.html, templates.c.text).where(
                templates.c.tenant_id == tenant_id,
                templates.c.mode == mode,
                templates.c.kind == kind,
                templates.c.locale == locale,
                templates.c.channel == channel,
            )
        )
    ).first()
    return TemplateSource(subject=row.subject, html=row.html, text=row.text) if row else None


async def put_override(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, key: TemplateKey, source: TemplateSource
) -> None:
    kind, locale, channel = key
    values = {"subject": source.subject, "html": source.html, "text": source.text, "updated_at": func.now()}
    stmt = insert(templates).values(
        tenant_id=tenant_id, mode=mode, kind=kind, locale=locale, channel=channel, **values
    )
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "mode", "kind", "locale", "channel"], set_=values
        )
    )
