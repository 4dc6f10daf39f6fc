"""Templates: read the effective one, override it (refused unless it renders safely), preview, revert."""

from __future__ import annotations

from litestar import delete, get, post, put
from litestar.datastructures import State
from nujoomy_kit.auth import require_role
from nujoomy_kit.tokens import Principal
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.api.schemas import PreviewOut, TemplateIn, TemplateOut
from nujoomy_notification.db import templates as queries
from nujoomy_notification.db.projections import get_tenant
from nujoomy_notification.db.tables import templates as templates_table
from nujoomy_notification.domain.branding import look as business_look
from nujoomy_notification.domain.defaults import default_template
from nujoomy_notification.domain.errors import UnknownTemplate
from nujoomy_notification.domain.kinds import LOCALES, Channel, Kind, Locale, parse_channel, parse_kind
from nujoomy_notification.domain.rendering import TemplateSource
from nujoomy_notification.template_checks import check_for_saving, preview

PATH = "/internal/v1/templates/{kind:str}/{locale:str}"


def _key(kind: str, locale: str, channel: str) -> tuple[Kind, Locale, Channel]:
    k, c = parse_kind(kind), parse_channel(channel)
    loc = next((x for x in LOCALES if x == locale), None)
    if k is None or c is None or loc is None:
        raise UnknownTemplate(f"{kind}/{locale} ({channel}) is not a template this service has")
    return k, loc, c


@get(PATH, guards=[require_role("manager")])
async def get_template(
    db: AsyncSession, principal: Principal, kind: str, locale: str, channel: str = "email"
) -> TemplateOut:
    k, loc, c = _key(kind, locale, channel)
    override = await queries.get_override(db, principal.tenant_id, principal.mode or "live", (k, loc, c))
    source = override or default_template(k, loc, c)
    return TemplateOut(
        kind=k,
        locale=loc,
        channel=c,
        source="tenant" if override else "default",
        subject=source.subject,
        html=source.html,
        text=source.text,
    )


@put(PATH, guards=[require_role("manager")])
async def put_template(
    *,
    db: AsyncSession,
    state: State,
    principal: Principal,
    kind: str,
    locale: str,
    data: TemplateIn,
    channel: str = "email",
) -> TemplateOut:
    k, loc, c = _key(kind, locale, channel)
    source = TemplateSource(subject=data.subject, html=data.html, text=data.text)
    # Refused now, with the problem, rather than failing when a customer's message is rendered.
    await check_for_saving(k, loc, c, source, state["settings"].render_budget())
    await queries.put_override(db, principal.tenant_id, principal.mode or "live", (k, loc, c), source)
    return TemplateOut(
        kind=k,
        locale=loc,
        channel=c,
        source="tenant",
        subject=source.subject,
        html=source.html,
        text=source.text,
    )


@delete(PATH, guards=[require_role("manager")])
async def revert_template(
    db: AsyncSession, principal: Principal, kind: str, locale: str, channel: str = "email"
) -> None:
    k, loc, c = _key(kind, locale, channel)
    t = templates_table.c
    await db.execute(
        sql_delete(templates_table).where(
            t.tenant_id == principal.tenant_id,
            t.mode == (principal.mode or "live"),
            t.kind == k,
            t.locale == loc,
            t.channel == c,
        )
    )


@post(f"{PATH}/preview", guards=[require_role("manager")], status_code=200)
async def preview_template(
    *,
    db: AsyncSession,
    state: State,
    principal: Principal,
    kind: str,
    locale: str,
    data: TemplateIn | None = None,
    channel: str = "email",
) -> PreviewOut:
    """Render the given draft, or the effective template when no body is sent, with sample data."""
    k, loc, c = _key(kind, locale, channel)
    if data is not None:
        source = TemplateSource(subject=data.subject, html=data.html, text=data.text)
    else:
        override = await queries.get_override(db, principal.tenant_id, principal.mode or "live", (k, loc, c))
        source = override or default_template(k, loc, c)
    settings = state["settings"]
    facts = await get_tenant(db, principal.tenant_id, principal.mode or "live")
    look = business_look(facts.name, facts.brand, settings.public_url)
    out = await preview(k, loc, c, source, budget=settings.render_budget(), look=look)
    return PreviewOut(subject=out.subject, html=out.html, text=out.text)
