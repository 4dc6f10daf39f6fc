"""Staff management: owners invite, change roles, disable and send reset links; managers may look."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import get, patch, post
from litestar.datastructures import State
from msgspec import UNSET
from nujoomy_kit.auth import require_role
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant import provisioning
from nujoomy_tenant.api.common import after_cursor, next_cursor, page_limit, parse_id
from nujoomy_tenant.api.schemas import StaffIn, StaffInvited, StaffList, StaffPatch
from nujoomy_tenant.db import staff as staff_db
from nujoomy_tenant.domain import program as rules
from nujoomy_tenant.domain.errors import LastOwner, NotFound
from nujoomy_tenant.sessions import StaffOut, staff_out
from nujoomy_tenant.settings import Settings

OWNER = [require_role("owner")]


@get("/internal/v1/staff", guards=OWNER)
async def list_staff(
    db: AsyncSession, principal: Principal, limit: int | None = None, cursor: str | None = None
) -> StaffList:
    size = page_limit(limit)
    rows = await staff_db.staff_list(db, principal.tenant_id, after_cursor("stf", cursor), size)
    return StaffList(
        data=[staff_out(r) for r in rows], next_cursor=next_cursor("stf", [r["id"] for r in rows], size)
    )


@post("/internal/v1/staff", guards=OWNER)
async def invite(data: StaffIn, db: AsyncSession, principal: Principal, state: State) -> StaffInvited:
    settings: Settings = state["settings"]
    invited = await provisioning.invite_staff(
        db,
        principal.tenant_id,
        email=data.email,
        name=data.name,
        role=data.role,
        invite_ttl=settings.invite_ttl_seconds,
    )
    assert invited.token is not None
    return StaffInvited(
        staff=staff_out(invited.staff),
        password_token=invited.token,
        password_url=provisioning.password_link(settings.public_url, invited.token),
    )


@patch("/internal/v1/staff/{staff_id:str}", guards=OWNER)
async def edit_staff(staff_id: str, data: StaffPatch, db: AsyncSession, principal: Principal) -> StaffOut:
    sid = parse_id("stf", staff_id)
    row = await staff_db.staff_member(db, principal.tenant_id, sid)
    if row is None:
        raise NotFound("No such staff member")
    changes: dict[str, Any] = {}
    if data.name is not UNSET:
        changes["name"] = rules.text("name", data.name, 120)
    if data.role is not UNSET:
        changes["role"] = data.role
    if data.disabled is not UNSET:
        changes["disabled"] = data.disabled
    stops_being_owner = (
        row["role"] == "owner"
        and not row["disabled"]
        and (changes.get("role", "owner") != "owner" or changes.get("disabled", False))
    )
    if stops_being_owner and await staff_db.active_owner_count(db, principal.tenant_id) <= 1:
        raise LastOwner("Make someone else owner first")
    await staff_db.update_staff(db, principal.tenant_id, sid, changes)
    if changes.get("disabled") or "role" in changes:
        # Refresh tokens carry no role: end them so the next session picks up the change. Access
        # tokens already out expire within their 15 minutes.
        await staff_db.revoke_staff_sessions(db, principal.tenant_id, sid, datetime.now(UTC))
    updated = await staff_db.staff_member(db, principal.tenant_id, sid)
    return staff_out(updated)


@post("/internal/v1/staff/{staff_id:str}/reset", guards=OWNER)
async def reset_link(staff_id: str, db: AsyncSession, principal: Principal, state: State) -> StaffInvited:
    settings: Settings = state["settings"]
    row = await staff_db.staff_member(db, principal.tenant_id, parse_id("stf", staff_id))
    if row is None:
        raise NotFound("No such staff member")
    token = await provisioning.setup_token(db, row, "reset", settings.invite_ttl_seconds)
    return StaffInvited(
        staff=staff_out(row),
        password_token=token,
        password_url=provisioning.password_link(settings.public_url, token),
    )


ROUTES = [list_staff, invite, edit_staff, reset_link]
