"""The public join page: branded from the tenant's by-slug facts, in the customer's language, enrols
through the ledger and hands back the card (Apple, Google, card page). Bots meet a honeypot field, a
signed and dated form token, and a per-IP limit.

An e-mail or phone that already has a card is never a second member: the ledger answers
member_exists and the card is sent again to that address (ledger.card.resent), never shown here, so
typing someone else's address gets the asker nothing. Sends to one member from this page are capped
per day (join_sends_per_address_per_day): the page cannot be used to bomb an inbox or pump SMS."""

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

from nujoomy_partner_gateway.bff.address_limit import address_of, count_post
from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.config import web_settings
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable, JoinRateLimited, JoinRejected
from nujoomy_partner_gateway.bff.languages import customer_lang
from nujoomy_partner_gateway.bff.rendering import form_as, message_for
from nujoomy_partner_gateway.web import render
from nujoomy_partner_gateway.web.i18n import translator

# Ledger problem codes the join page words for the customer (web/i18n.py) instead of showing the detail.
_CONTACT_ERRORS = {"invalid_phone": "join_invalid_phone", "invalid_email": "join_invalid_email"}


class JoinForm(msgspec.Struct, kw_only=True):
    form_token: str = ""
    lang: str = ""  # the language the page was shown in
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
    """A window per client address: cheap, enough to blunt scripts."""
    limit = web_settings(request.app.state).join_rate_per_minute
    count, ttl = await count_post(request, bucket, address_of(request))
    if count > limit:
        raise JoinRateLimited(ttl)


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
    lang = customer_lang(request, fallback=tenant.get("locale"))
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
    lang = customer_lang(request, form.lang, fallback=tenant.get("locale"))
    t = translator(lang)
    context = _context(request, slug, tenant)
    email, phone = form.email.strip() or None, form.phone.strip() or None
    try:
        if not email and not phone:
            raise InvalidInput(t("email_or_phone"))
        outcome = await enrol(request, tenant, form, email=email, phone=phone, lang=lang)
        if isinstance(outcome, Known):
            resent = Resent(capped=not await count_send(request, outcome.member_id))
            if not resent.capped:
                await resend_card(request, tenant, outcome.member_id)
        else:
            await count_send(request, outcome["member_id"])  # the welcome message: today's first send
    except (InvalidInput, BackendError, BackendUnavailable) as exc:
        context["form"] = form
        status = exc.status if exc.status != 401 else 503
        wording = _CONTACT_ERRORS.get(exc.code)
        return render(
            request,
            "join.html.j2",
            lang=lang,
            status=status,
            session=None,
            done=False,
            error=t(wording) if wording else message_for(exc, lang),
            **context,
        )
    if isinstance(outcome, Known):
        return render(
            request,
            "join.html.j2",
            lang=lang,
            status=429 if resent.capped else 200,
            session=None,
            done=False,
            resent=resent,
            **context,
        )
    return render(request, "join.html.j2", lang=lang, session=None, done=True, links=outcome, **context)


class Known(msgspec.Struct, kw_only=True):
    """The e-mail or phone already has a card: this member's (never shown to the asker)."""

    member_id: str


class Resent(msgspec.Struct, kw_only=True):
    """The card went to the known address again, or did not: past today's cap."""

    capped: bool


def _ledger(request: Request[Any, Any, Any], tenant: dict[str, Any]) -> Backends:
    raw_id = tenant.get("id") or tenant.get("tenant_id")
    if not raw_id:
        raise BackendUnavailable("The tenant service does not expose this business's id to the join page")
    tenant_id = decode_id("ten", raw_id) if str(raw_id).startswith("ten_") else uuid.UUID(str(raw_id))
    # Enrol, read the new member's wallet links, re-send a known member's card: nothing more.
    return Backends.internal(request.app.state, tenant_id, "live", ("members:write", "members:read"))


async def enrol(
    request: Request[Any, Any, Any],
    tenant: dict[str, Any],
    form: JoinForm,
    *,
    email: str | None,
    phone: str | None,
    lang: str,
) -> dict[str, Any] | Known:
    """The ledger enrols (member + card); wallet-pass answers the links (with the member's id),
    derivable from the member id. A contact the ledger already knows is that member's: Known."""
    backends = _ledger(request, tenant)
    consent = form.consent == "1"
    try:
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
    except BackendError as exc:
        existing = exc.extra.get("member_id") if exc.code == "member_exists" else None
        if not isinstance(existing, str):
            raise
        return Known(member_id=existing)
    links = dict(await backends.get("wallet_pass", f"/internal/v1/members/{member['id']}/links"))
    return {**links, "member_id": str(member["id"])}


async def resend_card(request: Request[Any, Any, Any], tenant: dict[str, Any], member_id: str) -> None:
    """The welcome message again, to the member's own address (ledger.card.resent)."""
    await _ledger(request, tenant).post("ledger", f"/internal/v1/members/{member_id}/card/resend", {})


async def count_send(request: Request[Any, Any, Any], member_id: str) -> bool:
    """Count one message to this member's address from the join page; False past today's cap.
    A window per member that opens at its first send: a day later the count starts again."""
    settings: ServiceSettings = request.app.state["settings"]
    cap = web_settings(request.app.state).join_sends_per_address_per_day
    key = f"{settings.redis_prefix}web:join-sends:{member_id}"
    redis = request.app.state["redis"]
    async with redis.pipeline(transaction=True) as pipe:
        count, _ = await pipe.incr(key).expire(key, 86400, nx=True).execute()
    return int(count) <= cap


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
