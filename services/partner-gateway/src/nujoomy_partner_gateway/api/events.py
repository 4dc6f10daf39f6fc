"""`GET /v1/events`: the events this plane produced, newest first, for a partner to backfill."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, get
from litestar.params import Parameter
from nujoomy_kit.problems import NotFound
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.api import pages
from nujoomy_partner_gateway.api.guards import WEBHOOKS
from nujoomy_partner_gateway.db import webhooks as db_webhooks

Limit = Annotated[int, Parameter(ge=1, le=100)]


@get("/v1/events", guards=WEBHOOKS, tags=["webhooks"])
async def list_events(
    db: AsyncSession,
    principal: Principal,
    type: str | None = None,
    cursor: str | None = None,
    limit: Limit = 20,
) -> Response[bytes]:
    """Each item is byte for byte the body its webhook deliveries carry."""
    assert principal.mode is not None
    rows = await db_webhooks.list_events(
        db, principal.tenant_id, principal.mode, before=pages.after(cursor), limit=limit, type_=type
    )
    cursor_json = msgspec.json.encode(pages.next_cursor([r.id for r in rows], limit))
    body = b'{"data":[' + b",".join(r.body for r in rows) + b'],"next_cursor":' + cursor_json + b"}"
    return Response(content=body, media_type="application/json")


@get("/v1/events/{event_id:str}", guards=WEBHOOKS, tags=["webhooks"])
async def get_event(event_id: str, db: AsyncSession, principal: Principal) -> Response[bytes]:
    assert principal.mode is not None
    row = await db_webhooks.get_event(
        db, principal.tenant_id, principal.mode, pages.object_id("evt", event_id, "event")
    )
    if row is None:
        raise NotFound("No such event")
    return Response(content=row.body, media_type="application/json")
