"""`GET /v1/events`: the events this plane produced, newest first, for a partner to backfill."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from litestar.params import Parameter
from nujoomy_kit.problems import NotFound
from nujoomy_kit.tokens import Principal

from nujoomy_partner_gateway.api import pages
from nujoomy_partner_gateway.api import response_docs as docs
from nujoomy_partner_gateway.api.guards import WEBHOOKS
from nujoomy_partner_gateway.db.reads import Reads

Limit = Annotated[int, Parameter(ge=1, le=100)]


def _reads(state: State) -> Reads:
    reads: Reads = state["reads"]
    return reads


@get("/v1/events", guards=WEBHOOKS, tags=["webhooks"], responses={200: docs.EVENTS_SPEC})
async def list_events(
    state: State,
    principal: Principal,
    type: str | None = None,
    cursor: str | None = None,
    limit: Limit = 20,
) -> Response[bytes]:
    """Each item is byte for byte the body its webhook deliveries carry."""
    assert principal.mode is not None
    rows = await _reads(state).list_events(
        principal.tenant_id, principal.mode, before=pages.after(cursor), limit=limit, type_=type
    )
    cursor_json = msgspec.json.encode(pages.next_cursor([r["id"] for r in rows], limit))
    body = b'{"data":[' + b",".join(r["body"] for r in rows) + b'],"next_cursor":' + cursor_json + b"}"
    return Response(content=body, media_type="application/json")


@get("/v1/events/{event_id:str}", guards=WEBHOOKS, tags=["webhooks"], responses={200: docs.EVENT_SPEC})
async def get_event(event_id: str, state: State, principal: Principal) -> Response[bytes]:
    assert principal.mode is not None
    row = await _reads(state).get_event(
        principal.tenant_id, principal.mode, pages.object_id("evt", event_id, "event")
    )
    if row is None:
        raise NotFound("No such event")
    return Response(content=row["body"], media_type="application/json")
