"""The caller's program and branding. Every change is one new version and one event per mode."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.datastructures import State
from msgspec import UNSET
from nujoomy_contracts.tenant import Program
from nujoomy_kit.auth import require_role
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.api.schemas import BrandingPatch, ImageUploaded, ProgramPatch
from nujoomy_tenant.db import assets as asset_db
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import images, validation
from nujoomy_tenant.domain import program as rules
from nujoomy_tenant.domain.errors import NotFound
from nujoomy_tenant.events import publishing
from nujoomy_tenant.settings import Settings

MANAGER = [require_role("manager")]
# The partner API reads the program (scope program:read); among staff, the program page is a manager's.
PROGRAM_READ = [require_role("manager", "program:read")]


@get("/internal/v1/program", guards=PROGRAM_READ)
async def read_program(db: AsyncSession, principal: Principal) -> Program:
    return await publishing.load_program(db, principal.tenant_id)


def _program_changes(data: ProgramPatch) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if data.type is not UNSET:
        changes["type"] = rules.program_type(data.type)
    if data.earn_rule is not UNSET:
        if data.earn_rule.points_per_unit is not UNSET:
            changes["points_per_unit"] = rules.points_per_unit(data.earn_rule.points_per_unit)
        if data.earn_rule.minimum_spend is not UNSET:
            changes["minimum_spend"] = rules.minimum_spend(data.earn_rule.minimum_spend)
        if data.earn_rule.max_per_transaction is not UNSET:
            changes["max_per_transaction"] = rules.max_per_transaction(data.earn_rule.max_per_transaction)
    if data.expiry is not UNSET:
        changes["expiry_kind"], changes["expiry_months"] = rules.expiry(data.expiry.kind, data.expiry.months)
    if data.wording is not UNSET:
        wording = data.wording
        if wording.balance_label is not UNSET:
            changes["balance_label"] = rules.required_text("wording.balance_label", wording.balance_label, 40)
        if wording.terms is not UNSET:
            changes["terms"] = rules.text("wording.terms", wording.terms, 5000)
        if wording.program_name is not UNSET:
            changes["program_name"] = rules.text("wording.program_name", wording.program_name, 120)
    return changes


async def _apply(db: AsyncSession, principal: Principal, changes: dict[str, Any]) -> Program:
    if await tenant_db.program_for(db, principal.tenant_id, lock=True) is None:
        raise NotFound("No such program")
    if not changes:
        return await publishing.load_program(db, principal.tenant_id)
    await tenant_db.update_program(db, principal.tenant_id, changes)
    return await publishing.program_changed(db, principal.tenant_id)


@patch("/internal/v1/program", guards=MANAGER)
async def edit_program(data: ProgramPatch, db: AsyncSession, principal: Principal) -> Program:
    return await _apply(db, principal, _program_changes(data))


@patch("/internal/v1/branding", guards=MANAGER)
async def edit_branding(data: BrandingPatch, db: AsyncSession, principal: Principal) -> Program:
    changes: dict[str, Any] = {}
    for field in ("background_color", "foreground_color", "label_color"):
        value = getattr(data, field)
        if value is not UNSET:
            changes[field] = validation.color(field, value)
    return await _apply(db, principal, changes)


async def _upload(
    kind: images.Kind, request: Request[Any, Any, Any], db: AsyncSession, principal: Principal, state: State
) -> ImageUploaded:
    settings: Settings = state["settings"]
    body = await request.body()
    original, variants = await asyncio.to_thread(images.process, body, kind, settings.max_image_bytes)
    await asset_db.store(db, [original, *variants.values()])
    program = await tenant_db.program_for(db, principal.tenant_id, lock=True)
    if program is None:
        raise NotFound("No such program")
    merged = images.without(kind, dict(program["images"]))
    merged.update({name: png.sha256 for name, png in variants.items()})
    merged[f"{kind}_original"] = original.sha256
    await tenant_db.update_program(db, principal.tenant_id, {"images": merged})
    updated = await publishing.program_changed(db, principal.tenant_id)
    return ImageUploaded(
        sha256=original.sha256,
        images=updated.branding.images,
        branding_version=updated.branding.version,
        program_version=updated.version,
    )


@post("/internal/v1/branding/logo", guards=MANAGER)
async def upload_logo(
    request: Request[Any, Any, Any], db: AsyncSession, principal: Principal, state: State
) -> ImageUploaded:
    """The raw PNG or JPEG bytes as the body (any Content-Type; the bytes decide)."""
    return await _upload("logo", request, db, principal, state)


@post("/internal/v1/branding/strip", guards=MANAGER)
async def upload_strip(
    request: Request[Any, Any, Any], db: AsyncSession, principal: Principal, state: State
) -> ImageUploaded:
    return await _upload("strip", request, db, principal, state)


@delete("/internal/v1/branding/logo", guards=MANAGER, status_code=200)
async def remove_logo(db: AsyncSession, principal: Principal) -> Program:
    """The card goes back to having no logo: a new branding version, pushed to installed cards like any
    other branding change. Removing a logo that is not there changes nothing and publishes nothing."""
    program = await tenant_db.program_for(db, principal.tenant_id, lock=True)
    if program is None:
        raise NotFound("No such program")
    current = dict(program["images"])
    kept = images.without("logo", current)
    if kept == current:
        return await publishing.load_program(db, principal.tenant_id)
    await tenant_db.update_program(db, principal.tenant_id, {"images": kept})
    return await publishing.program_changed(db, principal.tenant_id)


ROUTES = [read_program, edit_program, edit_branding, upload_logo, upload_strip, remove_logo]
