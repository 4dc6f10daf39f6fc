"""Message history per member (for the dashboard) and the failed messages (dead letters) with replay."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import get, post
from litestar.params import Parameter
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import InvalidId, decode_id, encode_id
from nujoomy_kit.problems import NotFound
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.api.schemas import MessageOut, MessagePage
from nujoomy_notification.db import messages as queries
from nujoomy_notification.db.projections import get_contact
from nujoomy_notification.domain.errors import MessageNotReplayable

Limit = Annotated[int, Parameter(ge=1, le=100)]


def _page(rows: list[queries.MessageRow], limit: int) -> MessagePage:
    cursor = encode_id("msg", rows[-1].id) if len(rows) == limit else None
    return MessagePage(data=[MessageOut.of(r) for r in rows], next_cursor=cursor)


@get("/internal/v1/members/{member_id:str}/messages", guards=[require_role("staff", "members:read")])
async def member_messages(
    db: AsyncSession, principal: Principal, member_id: str, limit: Limit = 20, cursor: str | None = None
) -> MessagePage:
    mid = decode_or_404("mbr", member_id)
    before = decode_or_404("msg", cursor) if cursor else None
    mode = principal.mode or "live"
    rows = await queries.member_messages(db, principal.tenant_id, mode, mid, before=before, limit=limit)
    if not rows and before is None and await get_contact(db, principal.tenant_id, mode, mid) is None:
        raise NotFound("No such member")
    return _page(rows, limit)


@get("/internal/v1/messages/failed", guards=[require_role("manager")])
async def failed_messages(
    db: AsyncSession, principal: Principal, limit: Limit = 20, cursor: str | None = None
) -> MessagePage:
    before = decode_or_404("msg", cursor) if cursor else None
    rows = await queries.failed_messages(db, principal.tenant_id, principal.mode or "live", before, limit)
    return _page(rows, limit)


@post("/internal/v1/messages/{message_id:str}/retry", guards=[require_role("manager")], status_code=202)
async def retry_message(db: AsyncSession, principal: Principal, message_id: str) -> dict[str, str]:
    status = await queries.requeue(
        db, principal.tenant_id, principal.mode or "live", decode_or_404("msg", message_id)
    )
    if status is None:
        raise NotFound("No such message")
    if status != "failed":
        raise MessageNotReplayable(f"The message is {status}", status_now=status)
    return {"id": message_id, "status": "queued"}


def decode_or_404(prefix: str, text: str) -> uuid.UUID:
    try:
        return decode_id(prefix, text)
    except InvalidId as exc:
        raise NotFound(f"No such {prefix}_ id") from exc
