"""Program & branding editor. The preview is drawn in the browser as the owner types; saving goes
through here to the tenant service, then the page polls the wallet re-sync ("N of M pushed")."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post
from nujoomy_kit.ids import encode_id

from nujoomy_partner_gateway.bff.backends import base_url, http_client
from nujoomy_partner_gateway.bff.errors import BackendError
from nujoomy_partner_gateway.bff.join import logo_url, qr_svg
from nujoomy_partner_gateway.bff.rendering import page
from nujoomy_partner_gateway.bff.session import check_csrf, require_session

Color = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")]


class BrandingEdit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    background_color: Color
    foreground_color: Color
    label_color: Color
    program_name: Annotated[str, msgspec.Meta(max_length=120)]
    balance_label: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class Saved(msgspec.Struct, kw_only=True):
    program_id: str
    version: int
    branding_version: str


def _program_id(program: dict[str, Any]) -> str:
    raw = str(program.get("program_id", ""))
    return raw if raw.startswith("prg_") else encode_id("prg", uuid.UUID(raw))


@get("/app/program")
async def program_page(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await require_session(request, "manager")
    program = await session.backends(request).get("tenant", "/internal/v1/program")
    return page(
        request,
        session,
        "program.html.j2",
        program_id=_program_id(program),
        branding=program["branding"],
        wording=program["wording"],
        tenant_name=program["tenant"]["name"],
        logo_url=logo_url(program["branding"]),
        sample_qr=qr_svg("NUJOOMY-PREVIEW"),
        js_strings={"saved": "✓", "pushed_of": "{pushed} / {total}"},
    )


@patch("/bff/program/branding")
async def save_branding(request: Request[Any, Any, Any], data: BrandingEdit) -> Saved:
    session = await require_session(request, "manager")
    await check_csrf(request, session)
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
    """The raw image bytes, passed through: the tenant service validates and derives the variants."""
    session = await require_session(request, "manager")
    await check_csrf(request, session)
    response = await http_client(request.app.state).post(
        f"{base_url(request.app.state, 'tenant')}/internal/v1/branding/logo",
        content=await request.body(),
        headers={
            "Authorization": f"Bearer {session.access_token}",
            "Content-Type": "application/octet-stream",
        },
    )
    if response.status_code >= 400:
        raise BackendError(
            response.status_code, "logo_rejected", "The logo was not accepted", response.text[:300]
        )
    return msgspec.json.decode(response.content)


@get("/bff/sync/{program_id:str}")
async def sync_progress(request: Request[Any, Any, Any], program_id: str) -> Any:
    session = await require_session(request, "manager")
    return await session.backends(request).get("wallet_pass", f"/internal/v1/sync/programs/{program_id}")


ROUTES = [program_page]
JSON_ROUTES = [save_branding, upload_logo, sync_progress]
