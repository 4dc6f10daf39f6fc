"""Request and response bodies of the notification API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from nujoomy_kit.ids import encode_id

from nujoomy_notification.db.messages import MessageRow


class MessageOut(msgspec.Struct, kw_only=True):
    id: str
    member_id: str
    kind: str
    channel: str
    locale: str
    recipient: str
    status: str
    reason: str | None
    subject: str
    text: str
    attempts: int
    send_after: datetime | None
    last_error: str | None
    provider_id: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: MessageRow) -> MessageOut:
        data = msgspec.structs.asdict(row)
        data["id"] = encode_id("msg", row.id)
        data["member_id"] = encode_id("mbr", row.member_id)
        return cls(**data)


class MessagePage(msgspec.Struct, kw_only=True):
    data: list[MessageOut]
    next_cursor: str | None


class TemplateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    subject: str = ""
    html: str = ""
    text: str


class TemplateOut(msgspec.Struct, kw_only=True):
    kind: str
    locale: str
    channel: str
    source: Literal["tenant", "default"]
    subject: str
    html: str
    text: str


class PreviewOut(msgspec.Struct, kw_only=True):
    subject: str
    html: str
    text: str
