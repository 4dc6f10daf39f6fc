"""Public one-click unsubscribe (RFC 8058): GET from the link in the footer, POST from the mail client."""

from __future__ import annotations

from html import escape

from litestar import MediaType, get, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db.projections import add_unsubscribe, get_tenant
from nujoomy_notification.domain.unsubscribe import verify

_PAGE = {
    "en": ("You are unsubscribed", "You will no longer receive {channel} messages from {name}."),
    "ar": ("تم إلغاء اشتراكك", "لن تصلك رسائل {channel} من {name} بعد الآن."),
}


async def _unsubscribe(db: AsyncSession, state: State, token: str) -> str:
    target = verify(state["settings"].unsubscribe_secret.encode(), token)
    await add_unsubscribe(db, target.tenant_id, target.mode, target.member_id, target.channel)
    facts = await get_tenant(db, target.tenant_id, target.mode)
    lang = "ar" if facts.locale.startswith("ar") else "en"
    title, body = _PAGE[lang]
    channel = {"email": "email", "sms": "SMS"}[target.channel]
    text = body.format(channel=channel, name=escape(facts.name or "us"))
    direction = "rtl" if lang == "ar" else "ltr"
    return (
        f'<!doctype html><html lang="{lang}" dir="{direction}"><meta charset="utf-8">'
        f"<title>{title}</title><h1>{title}</h1><p>{text}</p></html>"
    )


@get("/unsubscribe/{token:str}", media_type=MediaType.HTML)
async def unsubscribe_link(db: AsyncSession, state: State, token: str) -> str:
    return await _unsubscribe(db, state, token)


@post("/unsubscribe/{token:str}", media_type=MediaType.HTML, status_code=200)
async def unsubscribe_one_click(db: AsyncSession, state: State, token: str) -> str:
    return await _unsubscribe(db, state, token)
