"""The public join page: branded from the tenant's by-slug facts, enrols through the ledger and hands
back both wallet links. Bots meet a honeypot field, a signed and dated form token, and a per-IP limit."""

from __future__ import annotations

import hashlib
import hmac
import io
import time
import uuid
from typing import Any

import msgspec
import qrcode
import qrcode.image.svg
from litestar import MediaType, Request, Response, get, post
from nujoomy_kit.ids import decode_id
from nujoomy_kit.problems import InvalidInput, NotFound
from nujoomy_kit.settings import ServiceSettings

from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.client_address import request_address
from nujoomy_partner_gateway.bff.config import trusted_networks, web_settings
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable, JoinRateLimited, JoinRejected
from nujoomy_partner_gateway.bff.rendering import form_as, message_for
from nujoomy_partner_gateway.bff.session import current_lang
from nujoomy_partner_gateway.web import render


class JoinForm(msgspec.Struct, kw_only=True):
    form_token: str = ""
    website: str = ""  # the honeypot: hidden from people, filled in by naive bots
    name: str = ""
    email: str = ""
    phone: str = ""
    consent: str = ""


def form_token(secret: str, slug: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    return f"{issued}.{_mac(secret, slug, issued)}"


def form_token_valid(secret: str, slug: str, token: str, max_age: int, now: float | None = None) -> bool:
    issued_text, _, mac = token.partition(".")
    if not issued_text.isdigit() or not mac:
        return False
    issued = int(issued_text)
    age = (now if now is not None else time.time()) - issued
    return 0 <= age <= max_age and hmac.compare_digest(mac, _mac(secret, slug, issued))


def _mac(secret: str, slug: str, issued: int) -> str:
    return hmac.new(secret.encode(), f"join:{slug}:{issued}".encode(), hashlib.sha256).hexdigest()[:32]


def join_url(request: Request[Any, Any, Any], slug: str) -> str:
    settings: ServiceSettings = request.app.state["settings"]
    return f"{settings.public_url.rstrip('/')}/join/{slug}"


def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # drop the XML declaration so it can sit inline in HTML


async def public_tenant(request: Request[Any, Any, Any], slug: str) -> dict[str, Any]:
    try:
        found = await Backends(request.app.state).get("tenant", f"/internal/v1/tenants/by-slug/{slug}")
    except BackendError as exc:
        if exc.status == 404:
            raise NotFound("No such business") from exc
        raise
    return dict(found)


async def check_rate(request: Request[Any, Any, Any], bucket: str = "join") -> None:
    """A window per client address that opens at its first sign-up: cheap, enough to blunt scripts.
    The address is the socket peer, or what our trusted proxies say it is (client_address.py)."""
    settings: ServiceSettings = request.app.state["settings"]
    limit = web_settings(request.app.state).join_rate_per_minute
    ip = request_address(request.scope, trusted_networks(request.app.state))
    key = f"{settings.redis_prefix}web:{bucket}:{ip}"
    redis = request.app.state["redis"]
    async with redis.pipeline(transaction=True) as pipe:
        count, _ = await pipe.incr(key).expire(key, 60, nx=True).execute()
    if count > limit:
        ttl = await redis.ttl(key)
        raise JoinRateLimited(max(1, int(ttl)))


def brand_context(slug: str, tenant: dict[str, Any]) -> dict[str, Any]:
    """What a public page needs to look like the business: name, colours, wording, logo."""
    return {
        "slug": slug,
        "name": tenant.get("name", slug),
        "branding": tenant.get("branding") or {},
        "wording": tenant.get("wording") or {},
        "logo_url": logo_url(tenant.get("branding") or {}),
    }


def _context(request: Request[Any, Any, Any], slug: str, tenant: dict[str, Any]) -> dict[str, Any]:
    return {
        **brand_context(slug, tenant),
        "qr_svg": qr_svg(join_url(request, slug)),
        "form_token": form_token(web_settings(request.app.state).secret, slug),
        "form": JoinForm(),
    }


def logo_url(branding: dict[str, Any]) -> str | None:
    """The tenant names its images by path (`/assets/<sha256>.png`); the browser fetches them here."""
    images = branding.get("images") or {}
    found = str(images.get("logo@2x") or images.get("logo") or "")
    name = found.rsplit("/", 1)[-1]
    if not name:
        return None
    return f"/join-assets/{name if name.endswith('.png') else name + '.png'}"


@get("/join/{slug:str}")
async def join_page(request: Request[Any, Any, Any], slug: str) -> Response[str]:
    tenant = await public_tenant(request, slug)
    lang = current_lang(request) if request.cookies.get("nj_lang") else (tenant.get("locale") or "en")[:2]
    return render(
        request, "join.html.j2", lang=lang, session=None, done=False, **_context(request, slug, tenant)
    )


@post("/join/{slug:str}")
async def join(request: Request[Any, Any, Any], slug: str) -> Response[str]:
    await check_rate(request)
    form = await form_as(request, JoinForm)
    secret = web_settings(request.app.state).secret
    max_age = web_settings(request.app.state).join_form_max_age
    if form.website or not form_token_valid(secret, slug, form.form_token, max_age):
        raise JoinRejected()
    tenant = await public_tenant(request, slug)
    lang = current_lang(request) if request.cookies.get("nj_lang") else (tenant.get("locale") or "en")[:2]
    context = _context(request, slug, tenant)
    email, phone = form.email.strip() or None, form.phone.strip() or None
    try:
        if not email and not phone:
            raise InvalidInput("Give an email or a phone number")
        links = await enrol(request, tenant, form, email=email, phone=phone, lang=lang)
    except (InvalidInput, BackendError, BackendUnavailable) as exc:
        context["form"] = form
        status = exc.status if exc.status != 401 else 503
        return render(
            request,
            "join.html.j2",
            lang=lang,
            status=status,
            session=None,
            done=False,
            error=message_for(exc, lang),
            **context,
        )
    return render(request, "join.html.j2", lang=lang, session=None, done=True, links=links, **context)


async def enrol(
    request: Request[Any, Any, Any],
    tenant: dict[str, Any],
    form: JoinForm,
    *,
    email: str | None,
    phone: str | None,
    lang: str,
) -> dict[str, Any]:
    """The ledger enrols (member + card); wallet-pass answers the links, derivable from the member id."""
    raw_id = tenant.get("id") or tenant.get("tenant_id")
    if not raw_id:
        raise BackendUnavailable("The tenant service does not expose this business's id to the join page")
    tenant_id = decode_id("ten", raw_id) if str(raw_id).startswith("ten_") else uuid.UUID(str(raw_id))
    # Enrol, then read the new member's wallet links: nothing more.
    backends = Backends.internal(request.app.state, tenant_id, "live", ("members:write", "members:read"))
    consent = form.consent == "1"
    member = await backends.post(
        "ledger",
        "/internal/v1/members",
        {
            "name": form.name.strip() or None,
            "email": email,
            "phone": phone,
            "locale": lang,
            "consent_email": consent and email is not None,
            "consent_sms": consent and phone is not None,
        },
    )
    return dict(await backends.get("wallet_pass", f"/internal/v1/members/{member['id']}/links"))


@get("/join-assets/{name:str}", media_type="image/png")
async def join_asset(request: Request[Any, Any, Any], name: str) -> Response[bytes]:
    """Tenant images are content-addressed and public; proxied so the browser talks to one origin."""
    from nujoomy_partner_gateway.bff.backends import base_url, http_client

    response = await http_client(request.app.state).get(
        f"{base_url(request.app.state, 'tenant')}/assets/{name}"
    )
    if response.status_code != 200:
        raise NotFound("No such image")
    return Response(
        content=response.content,
        media_type=response.headers.get("content-type", MediaType.TEXT),
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


ROUTES = [join_page, join, join_asset]
