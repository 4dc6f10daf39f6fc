"""Public unsubscribe: the link in a message opens a page (GET changes nothing: mail scanners open
every link), its button confirms (POST). RFC 8058 one-click: a mail client POSTs
`List-Unsubscribe=One-Click` to the same URL and is unsubscribed without a page."""

from __future__ import annotations

from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db.projections import add_unsubscribe, get_contact, get_tenant, is_unsubscribed
from nujoomy_notification.domain.branding import look as business_look
from nujoomy_notification.domain.kinds import pick_locale
from nujoomy_notification.domain.unsubscribe import UnsubscribeTarget, verify
from nujoomy_notification.unsubscribe_page import HEADERS, page

PATH = "/unsubscribe/{token:str}"
ONE_CLICK = b"List-Unsubscribe=One-Click"


async def _page(db: AsyncSession, state: State, target: UnsubscribeTarget, *, done: bool) -> Response[str]:
    settings = state["settings"]
    tenant = await get_tenant(db, target.tenant_id, target.mode)
    contact = await get_contact(db, target.tenant_id, target.mode, target.member_id)
    look = business_look(tenant.name, tenant.brand, settings.public_url)
    lang = pick_locale(contact.locale if contact else None, tenant.locale)
    html = page(lang=lang, look=look, channel=target.channel, done=done)
    return Response(html, media_type=MediaType.HTML, headers=HEADERS)


@get(PATH)
async def unsubscribe_page(db: AsyncSession, state: State, token: str) -> Response[str]:
    target = verify(state["settings"].unsubscribe_secret.encode(), token)
    done = await is_unsubscribed(db, target.tenant_id, target.mode, target.member_id, target.channel)
    return await _page(db, state, target, done=done)


@post(PATH, status_code=200)
async def unsubscribe(
    request: Request[object, object, State], db: AsyncSession, state: State, token: str
) -> Response[str]:
    target = verify(state["settings"].unsubscribe_secret.encode(), token)
    await add_unsubscribe(db, target.tenant_id, target.mode, target.member_id, target.channel)
    # RFC 8058 (urlencoded or multipart): the mail client wants no page.
    body = await request.body()
    if ONE_CLICK in body or (b'name="List-Unsubscribe"' in body and b"One-Click" in body):
        return Response("unsubscribed", media_type=MediaType.TEXT, headers=HEADERS)
    return await _page(db, state, target, done=True)
