"""The consent page the back of a wallet pass links to: a member chooses email and SMS without an
account. The link names the member by a signed, expiring token (nujoomy_kit.member_links, signed by
wallet-pass); the choice goes to the ledger member (PATCH), whose ledger.member.updated event the
notification service projects into the consent it checks before every message."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from nujoomy_kit.ids import decode_id, encode_id
from nujoomy_kit.member_links import MemberLink, verify_member_link
from nujoomy_kit.settings import read_pems
from nujoomy_kit.tokens import TokenError

from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.config import web_settings
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable, JoinRejected
from nujoomy_partner_gateway.bff.join import (
    brand_context,
    check_rate,
    form_token,
    form_token_valid,
    public_tenant,
)
from nujoomy_partner_gateway.bff.languages import customer_lang
from nujoomy_partner_gateway.bff.rendering import form_as, message_for
from nujoomy_partner_gateway.settings import Settings
from nujoomy_partner_gateway.web import render

PURPOSE = "preferences"


class PreferencesForm(msgspec.Struct, kw_only=True):
    t: str = ""
    form_token: str = ""
    consent_email: str = ""
    consent_sms: str = ""


def _form_scope(slug: str, link_token: str) -> str:
    # The form token is bound to this page and this member's link: a form lifted from one page
    # cannot be replayed against another member.
    return f"prefs:{slug}:{hashlib.sha256(link_token.encode()).hexdigest()[:24]}"


def _tenant_uuid(tenant: dict[str, Any]) -> uuid.UUID | None:
    raw = str(tenant.get("id") or tenant.get("tenant_id") or "")
    try:
        return decode_id("ten", raw) if raw.startswith("ten_") else uuid.UUID(raw)
    except ValueError:
        return None


def _link(request: Request[Any, Any, Any], tenant: dict[str, Any], token: str) -> MemberLink | None:
    settings: Settings = request.app.state["settings"]
    try:
        link = verify_member_link(
            read_pems(settings.member_link_public_key),
            PURPOSE,
            token,
            max_age=web_settings(request.app.state).preferences_link_max_age,
        )
    except TokenError:
        return None
    return link if link.tenant_id == _tenant_uuid(tenant) else None  # another business's member


def _backends(request: Request[Any, Any, Any], link: MemberLink) -> Backends:
    return Backends.internal(request.app.state, link.tenant_id, link.mode, ("members:read", "members:write"))


def _lang(request: Request[Any, Any, Any], member: dict[str, Any] | None, tenant: dict[str, Any]) -> str:
    return customer_lang(request, member and member.get("locale"), fallback=tenant.get("locale"))


def _masked_email(email: str) -> str:
    user, _, domain = email.partition("@")
    return f"{user[:1]}•••@{domain}"


def _masked_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    return "•••• " + "".join(digits[-4:])


def _page(
    request: Request[Any, Any, Any],
    slug: str,
    tenant: dict[str, Any],
    lang: str,
    *,
    token: str = "",
    member: dict[str, Any] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response[str]:
    secret = web_settings(request.app.state).secret
    return render(
        request,
        "preferences.html.j2",
        lang=lang,
        status=status,
        session=None,
        link_token=token,
        member=member,
        masked_email=_masked_email(member["email"]) if member and member.get("email") else None,
        masked_phone=_masked_phone(member["phone"]) if member and member.get("phone") else None,
        form_token=form_token(secret, _form_scope(slug, token)) if member else "",
        **brand_context(slug, tenant),
        **extra,
    )


async def _member(request: Request[Any, Any, Any], link: MemberLink) -> dict[str, Any] | None:
    try:
        found = await _backends(request, link).get(
            "ledger", f"/internal/v1/members/{encode_id('mbr', link.member_id)}"
        )
    except BackendError as exc:
        if exc.status == 404:  # erased since the pass was rendered
            return None
        raise
    return dict(found)


@get("/join/{slug:str}/preferences")
async def preferences_page(request: Request[Any, Any, Any], slug: str) -> Response[str]:
    tenant = await public_tenant(request, slug)
    token = request.query_params.get("t") or ""
    link = _link(request, tenant, token) if token else None
    member = await _member(request, link) if link else None
    lang = _lang(request, member, tenant)
    if member is None:
        return _page(request, slug, tenant, lang, status=403, invalid=True)
    return _page(request, slug, tenant, lang, token=token, member=member)


@post("/join/{slug:str}/preferences")
async def save_preferences(request: Request[Any, Any, Any], slug: str) -> Response[str]:
    await check_rate(request, "prefs")
    form = await form_as(request, PreferencesForm)
    settings = web_settings(request.app.state)
    if not form_token_valid(
        settings.secret, _form_scope(slug, form.t), form.form_token, settings.join_form_max_age
    ):
        raise JoinRejected()
    tenant = await public_tenant(request, slug)
    link = _link(request, tenant, form.t)
    member = await _member(request, link) if link else None
    lang = _lang(request, member, tenant)
    if link is None or member is None:
        return _page(request, slug, tenant, lang, status=403, invalid=True)
    # Only a channel we can reach is offered, so only those change; the other keeps its value.
    changes = {
        field: getattr(form, field) == "1"
        for field, contact in (("consent_email", "email"), ("consent_sms", "phone"))
        if member.get(contact)
    }
    try:
        member = dict(
            await _backends(request, link).patch(
                "ledger", f"/internal/v1/members/{encode_id('mbr', link.member_id)}", changes
            )
        )
    except (BackendError, BackendUnavailable) as exc:
        status = exc.status if exc.status != 401 else 503
        return _page(
            request,
            slug,
            tenant,
            lang,
            token=form.t,
            member=member,
            status=status,
            error=message_for(exc, lang),
        )
    return _page(request, slug, tenant, lang, token=form.t, member=member, saved=True)


ROUTES = [preferences_page, save_preferences]
