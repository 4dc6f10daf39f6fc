"""Program & branding editor. The preview is drawn in the browser as the owner types; saving goes
through here to the tenant service, then the page polls the wallet re-sync ("N of M pushed"). The
rules (earn rule, expiry, terms) are a plain form; removing the logo asks first.

The program is shared by live and test mode (docs/decisions.md): in test mode every change here asks
first, in words saying it changes the live program and the cards customers carry."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post
from nujoomy_kit.ids import encode_id
from nujoomy_kit.problems import Conflict, InvalidInput

from nujoomy_partner_gateway.bff.backends import base_url, http_client, problem_from
from nujoomy_partner_gateway.bff.confirm import unconfirmed
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.flash import Flash, redirect_with, typed
from nujoomy_partner_gateway.bff.join import logo_url, qr_svg
from nujoomy_partner_gateway.bff.rendering import message_for, page
from nujoomy_partner_gateway.bff.session import StaffSession, check_csrf, current_lang, require_session

Color = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")]
PAGE = "/app/program"
EXPIRY_KINDS = ("never", "months_after_earn", "end_of_nth_month")


class LiveChangeUnconfirmed(Conflict):
    code = "live_change_unconfirmed"
    title = "Test mode shares the live program: confirm the change first"


class BrandingEdit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    background_color: Color
    foreground_color: Color
    label_color: Color
    program_name: Annotated[str, msgspec.Meta(max_length=120)]
    balance_label: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    # In test mode the page asks first (the program is the live one); the answer travels here.
    confirmed: bool = False


class Saved(msgspec.Struct, kw_only=True):
    program_id: str
    version: int
    branding_version: str


def _program_id(program: dict[str, Any]) -> str:
    raw = str(program.get("program_id", ""))
    return raw if raw.startswith("prg_") else encode_id("prg", uuid.UUID(raw))


@get(PAGE)
async def program_page(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await require_session(request, "manager")
    program = await session.backends(request).get("tenant", "/internal/v1/program")
    shared_with_live = session.mode == "test"
    return page(
        request,
        session,
        "program.html.j2",
        program_id=_program_id(program),
        program=program,
        branding=program["branding"],
        wording=program["wording"],
        tenant_name=program["tenant"]["name"],
        logo_url=logo_url(program["branding"]),
        sample_qr=qr_svg("NUJOOMY-PREVIEW"),
        expiry_kinds=EXPIRY_KINDS,
        asks_live=shared_with_live,
        js_strings=_js_strings(request, live_question=shared_with_live),
    )


def _js_strings(request: Request[Any, Any, Any], *, live_question: bool) -> dict[str, str]:
    from nujoomy_partner_gateway.web.i18n import translator

    t = translator(current_lang(request))
    keys = (
        "saved",
        "pushed_of",
        "no_cards_yet",
        "problem_invalid_image",
        "problem_image_too_large",
        "logo_not_image",
        "failed",
    )
    strings = {key: t(key) for key in keys}
    if live_question:
        strings["confirm_live_change"] = t("confirm_live_change")
    return strings


def _rules(form: Any) -> dict[str, Any]:
    """The form as the tenant's program PATCH; the tenant service owns the rules and their problems."""
    try:
        points = int(str(form.get("points_per_unit", "")).strip())
        months = int(str(form.get("expiry_months", "") or "0").strip())
    except ValueError as exc:
        raise InvalidInput("Points and months are whole numbers", field="points_per_unit") from exc
    return {
        "earn_rule": {
            "points_per_unit": points,
            "minimum_spend": str(form.get("minimum_spend", "")).strip() or None,
        },
        "expiry": {"kind": str(form.get("expiry_kind", "")), "months": months},
        "wording": {"terms": str(form.get("terms", ""))},
    }


async def _program_write(
    request: Request[Any, Any, Any], call: Any, notice: str, question: str | None = None
) -> Response[Any]:
    session = await require_session(request, "manager")
    form = await request.form()
    await check_csrf(request, session, str(form.get("_csrf", "")))
    if question is None and session.mode == "test":
        question = "confirm_live_change"
    if question and (asked := await unconfirmed(request, session, question, back=PAGE)):
        return asked
    subject = session.principal.subject
    try:
        await call(session, form)
    except (BackendError, BackendUnavailable, InvalidInput) as exc:
        flash = Flash(error=message_for(exc, current_lang(request)), form=typed(form))
        return await redirect_with(request, subject, PAGE, flash)
    return await redirect_with(request, subject, PAGE, Flash(notice=notice))


@post(f"{PAGE}/rules")
async def save_rules(request: Request[Any, Any, Any]) -> Response[Any]:
    async def call(session: StaffSession, form: Any) -> Any:
        return await session.backends(request).patch("tenant", "/internal/v1/program", _rules(form))

    return await _program_write(request, call, "rules_saved")


@post(f"{PAGE}/logo/remove")
async def remove_logo(request: Request[Any, Any, Any]) -> Response[Any]:
    async def call(session: StaffSession, _: Any) -> Any:
        return await session.backends(request).delete("tenant", "/internal/v1/branding/logo")

    return await _program_write(request, call, "logo_removed", "confirm_remove_logo")


@patch("/bff/program/branding")
async def save_branding(request: Request[Any, Any, Any], data: BrandingEdit) -> Saved:
    session = await require_session(request, "manager")
    await check_csrf(request, session)
    if session.mode == "test" and not data.confirmed:
        raise LiveChangeUnconfirmed()
    backends = session.backends(request)
    await backends.patch(
        "tenant",
        "/internal/v1/program",
        {"wording": {"program_name": data.program_name, "balance_label": data.balance_label}},
    )
    program = await backends.patch(
        "tenant",
        "/internal/v1/branding",
        {
            "background_color": data.background_color,
            "foreground_color": data.foreground_color,
            "label_color": data.label_color,
        },
    )
    return Saved(
        program_id=_program_id(program),
        version=int(program["version"]),
        branding_version=str(program["branding"].get("version", "")),
    )


@post("/bff/program/logo", status_code=200)
async def upload_logo(request: Request[Any, Any, Any]) -> Any:
    """The raw image bytes, passed through: the tenant service validates and derives the variants.
    Its refusal passes through as the tenant's own problem (code `invalid_image`, `image_too_large`),
    which the page shows in the reader's language."""
    session = await require_session(request, "manager")
    await check_csrf(request, session)
    if session.mode == "test" and request.headers.get("nujoomy-confirmed") != "1":
        raise LiveChangeUnconfirmed()
    response = await http_client(request.app.state).post(
        f"{base_url(request.app.state, 'tenant')}/internal/v1/branding/logo",
        content=await request.body(),
        headers={
            "Authorization": f"Bearer {session.access_token}",
            "Content-Type": "application/octet-stream",
        },
    )
    if response.status_code >= 400:
        raise problem_from("tenant", response)
    return msgspec.json.decode(response.content)


@get("/bff/sync/{program_id:str}")
async def sync_progress(request: Request[Any, Any, Any], program_id: str) -> Any:
    session = await require_session(request, "manager")
    return await session.backends(request).get("wallet_pass", f"/internal/v1/sync/programs/{program_id}")


ROUTES = [program_page, save_rules, remove_logo]
JSON_ROUTES = [save_branding, upload_logo, sync_progress]
