"""The tenant itself: read and edit the caller's tenant, public facts by slug, the suspended list."""

from __future__ import annotations

from typing import Any

from litestar import get, patch
from msgspec import UNSET
from nujoomy_contracts.tenant import TENANT_UPDATED
from nujoomy_kit.auth import require_internal, require_role
from nujoomy_kit.ids import encode_id
from nujoomy_kit.resources import SUSPENDED_SCOPE
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.api.schemas import PublicTenant, SuspendedList, TenantPatch
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import program as rules
from nujoomy_tenant.domain import validation
from nujoomy_tenant.domain.errors import NotFound
from nujoomy_tenant.events import publishing
from nujoomy_tenant.sessions import TenantOut, tenant_out


@get("/internal/v1/tenant", guards=[require_role("staff", "tenant:read")])
async def read_tenant(db: AsyncSession, principal: Principal) -> TenantOut:
    row = await tenant_db.tenant_by_id(db, principal.tenant_id)
    if row is None:
        raise NotFound("No such tenant")
    return tenant_out(row)


def _tenant_changes(data: TenantPatch) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if data.name is not UNSET:
        changes["name"] = rules.required_text("name", data.name, 120)
    if data.locale is not UNSET:
        changes["locale"] = validation.locale(data.locale)
    if data.country is not UNSET:
        changes["country"] = validation.country(data.country) if data.country else None
    if data.timezone is not UNSET:
        changes["timezone"] = validation.timezone(data.timezone)
    if data.currency is not UNSET:
        changes["currency"] = validation.currency(data.currency)
    if data.contact_email is not UNSET:
        changes["contact_email"] = (
            validation.email(data.contact_email, "contact_email") if data.contact_email else None
        )
    if data.contact_phone is not UNSET:
        changes["contact_phone"] = rules.text("contact_phone", data.contact_phone or "", 40) or None
    if data.website is not UNSET:
        changes["website"] = rules.text("website", data.website or "", 200) or None
    return changes


@patch("/internal/v1/tenant", guards=[require_role("owner")])
async def edit_tenant(data: TenantPatch, db: AsyncSession, principal: Principal) -> TenantOut:
    changes = _tenant_changes(data)
    if changes:
        await tenant_db.update_tenant(db, principal.tenant_id, changes)
    row = await tenant_db.tenant_by_id(db, principal.tenant_id)
    if row is None:
        raise NotFound("No such tenant")
    if changes:
        await publishing.tenant_event(db, TENANT_UPDATED, row)
        # The program event embeds the tenant (name, currency...), so its projections move too.
        await publishing.program_changed(db, principal.tenant_id)
    return tenant_out(row)


@get("/internal/v1/tenants/by-slug/{slug:str}")
async def public_tenant(slug: str, db: AsyncSession) -> PublicTenant:
    row = await tenant_db.tenant_by_slug(db, slug.lower())
    if row is None or row["status"] != "active":
        raise NotFound("No such business")
    program = await publishing.load_program(db, row["id"])
    return PublicTenant(
        id=encode_id("ten", row["id"]),
        slug=row["slug"],
        name=row["name"],
        locale=row["locale"],
        program_type=program.type,
        branding=program.branding,
        wording=program.wording,
    )


@get("/internal/v1/tenants/suspended", guards=[require_internal(SUSPENDED_SCOPE)])
async def suspended(db: AsyncSession) -> SuspendedList:
    return SuspendedList(tenant_ids=[str(t) for t in await tenant_db.suspended_tenant_ids(db)])


ROUTES = [read_tenant, edit_tenant, public_tenant, suspended]
