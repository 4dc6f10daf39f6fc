"""Locations (shops), so scans and staff can be attributed to a place."""

from __future__ import annotations

from typing import Any

from litestar import delete, get, patch, post
from msgspec import UNSET
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import encode_id, uuid7
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.api.common import after_cursor, next_cursor, page_limit, parse_id
from nujoomy_tenant.api.schemas import LocationIn, LocationList, LocationOut, LocationPatch
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import program as rules
from nujoomy_tenant.domain.errors import NotFound

MANAGER = [require_role("manager")]
READ = [require_role("manager", "program:read")]


def location_out(row: Any) -> LocationOut:
    return LocationOut(
        id=encode_id("loc", row["id"]), name=row["name"], address=row["address"], created_at=row["created_at"]
    )


@get("/internal/v1/locations", guards=READ)
async def list_locations(
    db: AsyncSession, principal: Principal, limit: int | None = None, cursor: str | None = None
) -> LocationList:
    size = page_limit(limit)
    rows = await tenant_db.locations_for(db, principal.tenant_id, after_cursor("loc", cursor), size)
    return LocationList(
        data=[location_out(r) for r in rows], next_cursor=next_cursor("loc", [r["id"] for r in rows], size)
    )


@post("/internal/v1/locations", guards=MANAGER)
async def create_location(data: LocationIn, db: AsyncSession, principal: Principal) -> LocationOut:
    location_id = uuid7()
    await tenant_db.insert_location(
        db,
        {
            "id": location_id,
            "tenant_id": principal.tenant_id,
            "name": rules.required_text("name", data.name, 120),
            "address": rules.text("address", data.address, 500),
        },
    )
    return location_out(await tenant_db.location(db, principal.tenant_id, location_id))


@get("/internal/v1/locations/{location_id:str}", guards=READ)
async def read_location(location_id: str, db: AsyncSession, principal: Principal) -> LocationOut:
    row = await tenant_db.location(db, principal.tenant_id, parse_id("loc", location_id))
    if row is None:
        raise NotFound("No such location")
    return location_out(row)


@patch("/internal/v1/locations/{location_id:str}", guards=MANAGER)
async def edit_location(
    location_id: str, data: LocationPatch, db: AsyncSession, principal: Principal
) -> LocationOut:
    lid = parse_id("loc", location_id)
    changes: dict[str, Any] = {}
    if data.name is not UNSET:
        changes["name"] = rules.required_text("name", data.name, 120)
    if data.address is not UNSET:
        changes["address"] = rules.text("address", data.address, 500)
    await tenant_db.update_location(db, principal.tenant_id, lid, changes)
    row = await tenant_db.location(db, principal.tenant_id, lid)
    if row is None:
        raise NotFound("No such location")
    return location_out(row)


@delete("/internal/v1/locations/{location_id:str}", guards=MANAGER)
async def archive_location(location_id: str, db: AsyncSession, principal: Principal) -> None:
    """Archives: the location leaves the list and can no longer be read or changed, while what was
    recorded there keeps pointing at its id."""
    if not await tenant_db.archive_location(db, principal.tenant_id, parse_id("loc", location_id)):
        raise NotFound("No such location")


ROUTES = [list_locations, create_location, read_location, edit_location, archive_location]
