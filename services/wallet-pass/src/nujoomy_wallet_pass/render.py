"""Turning a member's projected state into what a wallet shows: PassContent, the .pkpass, Google bodies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from nujoomy_contracts.tenant import Program
from nujoomy_kit.ids import encode_id
from nujoomy_kit.member_links import sign_member_link
from nujoomy_kit.settings import read_pem
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.credentials import PassCredentials
from nujoomy_wallet_pass.db import programs
from nujoomy_wallet_pass.domain.links import pass_id
from nujoomy_wallet_pass.domain.passjson import Mode, PassContent, store_card
from nujoomy_wallet_pass.images import default_images
from nujoomy_wallet_pass.pkpass import PreparedImages, build_pkpass, prepare_images
from nujoomy_wallet_pass.settings import Settings

_PREPARED_MAX = 1024
_prepared: dict[tuple[uuid.UUID, str, str], PreparedImages] = {}


@dataclass(frozen=True)
class MemberCard:
    content: PassContent
    program: Program | None
    branding_version: str
    program_id: uuid.UUID | None


async def member_card(
    db: AsyncSession,
    settings: Settings,
    credentials: PassCredentials,
    tenant_id: uuid.UUID,
    mode: Mode,
    *,
    member_id: uuid.UUID,
    generation: int | None = None,
) -> MemberCard | None:
    """The member's Apple pass of that card generation (the current one when None). A pass of an
    older generation is voided: it never shows the current card's QR."""
    row = (
        await db.execute(
            text(
                "SELECT m.name, m.card_token, m.balance, m.program_id, p.authentication_token, "
                "p.generation, p.voided_at IS NOT NULL AS voided "
                "FROM members m JOIN passes p ON p.tenant_id = m.tenant_id AND p.mode = m.mode "
                "AND p.member_id = m.member_id AND p.wallet = 'apple' "
                "AND p.generation = COALESCE(CAST(:g AS integer), m.generation) "
                "WHERE m.tenant_id = :t AND m.mode = :m AND m.member_id = :mb AND m.status = 'active'"
            ),
            {"t": tenant_id, "m": mode, "mb": member_id, "g": generation},
        )
    ).first()
    if row is None:
        return None
    found = await programs.program_row(db, tenant_id, mode)
    program, version = found if found else (None, "")
    content = build_content(
        settings,
        credentials,
        mode=mode,
        member_id=member_id,
        authentication_token=row.authentication_token,
        card_token="" if row.voided else row.card_token,
        balance=int(row.balance),
        name=row.name,
        program=program,
        generation=int(row.generation),
        voided=bool(row.voided),
    )
    return MemberCard(content, program, version, row.program_id)


def build_content(
    settings: Settings,
    credentials: PassCredentials,
    *,
    mode: Mode,
    member_id: uuid.UUID,
    authentication_token: str,
    card_token: str,
    balance: int,
    name: str | None,
    program: Program | None,
    generation: int = 0,
    voided: bool = False,
) -> PassContent:
    content = PassContent(
        serial=encode_id("pas", pass_id(member_id, "apple", generation)),
        voided=voided,
        authentication_token=authentication_token,
        card_token=card_token,
        balance=balance,
        mode=mode,
        pass_type_id=credentials.pass_type_id,
        team_id=credentials.team_id,
        organization_name=program.tenant.name if program else settings.organization_name,
        web_service_url=f"{settings.public_url.rstrip('/')}/apple",
        google_callback_url=f"{settings.public_url.rstrip('/')}/google/callbacks",
        member_name=name,
    )
    return _with_program(content, program, settings, member_id) if program is not None else content


def _with_program(
    content: PassContent, program: Program, settings: Settings, member_id: uuid.UUID
) -> PassContent:
    import msgspec

    tenant = program.tenant
    return msgspec.structs.replace(
        content,
        program_name=program.wording.program_name or tenant.name,
        balance_label=program.wording.balance_label or ("Stamps" if program.type == "stamps" else "Points"),
        background_color=program.branding.background_color,
        foreground_color=program.branding.foreground_color,
        label_color=program.branding.label_color,
        terms=program.wording.terms,
        contact_email=tenant.contact_email,
        contact_phone=tenant.contact_phone,
        website=tenant.website,
        consent_url=preferences_url(settings, program, content.mode, member_id),
    )


def preferences_url(settings: Settings, program: Program, mode: Mode, member_id: uuid.UUID) -> str:
    """The gateway's consent page, with a signed link naming this member (nujoomy_kit.member_links)."""
    url = f"{settings.pages_url.rstrip('/')}/join/{program.tenant.slug}/preferences"
    pem = read_pem(settings.member_link_private_key)
    if not pem:
        return url  # no member-link key (a bare dev setup): the page explains how to get a fresh link
    token = sign_member_link(pem, "preferences", tenant_id=program.tenant_id, member_id=member_id, mode=mode)
    return f"{url}?t={token}"


async def pkpass_for(
    db: AsyncSession, settings: Settings, credentials: PassCredentials, card: MemberCard, tenant_id: uuid.UUID
) -> bytes:
    key = (tenant_id, card.content.mode, card.branding_version)
    prepared = _prepared.get(key)
    if prepared is None:
        images = await programs.images_for(db, tenant_id, card.content.mode, card.branding_version)
        apple_images = {k: v for k, v in images.items() if k != "google_logo"}
        if not apple_images:
            apple_images = default_images(card.program.branding if card.program else None)
        prepared = prepare_images(apple_images)
        # A branding version's images never change, so the prepared entries can live as long as we like.
        if len(_prepared) >= _PREPARED_MAX:
            _prepared.pop(next(iter(_prepared)))
        _prepared[key] = prepared
    return build_pkpass(store_card(card.content), prepared, credentials)


def logo_uri(settings: Settings, card: MemberCard) -> str:
    """Google fetches the class logo itself, so it must be a public URL."""
    if card.program is not None:
        path = card.program.branding.images.get("google_logo") or card.program.branding.images.get("logo")
        if path:
            return f"{settings.tenant_url.rstrip('/')}{path}" if path.startswith("/") else path
    return f"{settings.public_url.rstrip('/')}/apple/logo.png"
