"""What the tenant service publishes, through the outbox, in the caller's transaction.

Tenant facts hold for both modes, so every event goes out twice, once per mode (contracts/tenant.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from nujoomy_contracts import Mode, new_envelope
from nujoomy_contracts.tenant import (
    PROGRAM_UPDATED,
    STAFF_CREATED,
    Branding,
    EarnRule,
    ExpiryPolicy,
    Program,
    Reward,
    StaffCreated,
    Tenant,
    Wording,
)
from nujoomy_messaging import add_events
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain.errors import NotFound
from nujoomy_tenant.domain.program import branding_version

MODES: tuple[Mode, ...] = ("live", "test")


def asset_path(sha256: str) -> str:
    return f"/assets/{sha256}.png"


def tenant_struct(row: Any) -> Tenant:
    return Tenant(
        tenant_id=row["id"],
        slug=row["slug"],
        name=row["name"],
        locale=row["locale"],
        timezone=row["timezone"],
        currency=row["currency"],
        status=row["status"],
        contact_email=row["contact_email"],
        contact_phone=row["contact_phone"],
        website=row["website"],
        country=row["country"],
    )


def branding_struct(program: Any) -> Branding:
    colors = (program["background_color"], program["foreground_color"], program["label_color"])
    images: dict[str, str] = dict(program["images"])
    return Branding(
        background_color=colors[0],
        foreground_color=colors[1],
        label_color=colors[2],
        images={name: asset_path(sha) for name, sha in sorted(images.items())},
        version=branding_version(colors, images),
    )


def reward_struct(row: Any) -> Reward:
    return Reward(
        reward_id=row["id"],
        name=row["name"],
        cost=row["cost"],
        description=row["description"],
        limit_per_day=row["limit_per_day"],
        limit_per_week=row["limit_per_week"],
        limit_per_month=row["limit_per_month"],
        active_from=row["active_from"],
        active_until=row["active_until"],
        active=row["active"],
    )


def program_struct(tenant: RowMapping, program: RowMapping, rewards: list[Reward]) -> Program:
    return Program(
        program_id=program["id"],
        tenant_id=tenant["id"],
        version=program["version"],
        type=program["type"],
        currency=tenant["currency"],
        earn_rule=EarnRule(
            points_per_unit=program["points_per_unit"],
            minimum_spend=program["minimum_spend"],
            max_per_transaction=program["max_per_transaction"],
        ),
        rewards=rewards,
        expiry=ExpiryPolicy(kind=program["expiry_kind"], months=program["expiry_months"]),
        wording=Wording(
            balance_label=program["balance_label"],
            terms=program["terms"],
            program_name=program["program_name"],
        ),
        branding=branding_struct(program),
        tenant=tenant_struct(tenant),
    )


async def load_program(db: AsyncSession, tenant_id: uuid.UUID) -> Program:
    tenant = await tenant_db.tenant_by_id(db, tenant_id)
    program = await tenant_db.program_for(db, tenant_id)
    if tenant is None or program is None:
        raise NotFound("No such program")
    rewards = [reward_struct(r) for r in await tenant_db.rewards_for(db, tenant_id)]
    return program_struct(tenant, program, rewards)


async def program_changed(db: AsyncSession, tenant_id: uuid.UUID) -> Program:
    """Call once per request that changed the program (or its rewards, branding, tenant facts): the
    version goes up by one and one `tenant.program.updated` per mode carries the whole new program."""
    await tenant_db.bump_program_version(db, tenant_id)
    program = await load_program(db, tenant_id)
    await add_events(
        db,
        [
            (
                new_envelope(PROGRAM_UPDATED, program, tenant_id=tenant_id, mode=mode),
                f"program:{program.program_id}",
            )
            for mode in MODES
        ],
    )
    return program


async def tenant_event(db: AsyncSession, type_: str, tenant: Any) -> None:
    data = tenant_struct(tenant)
    await add_events(
        db,
        [
            (new_envelope(type_, data, tenant_id=data.tenant_id, mode=mode), f"tenant:{data.tenant_id}")
            for mode in MODES
        ],
    )


async def staff_created(db: AsyncSession, tenant_id: uuid.UUID, staff: Any) -> None:
    data = StaffCreated(staff_id=staff["id"], email=staff["email"], name=staff["name"], role=staff["role"])
    await add_events(
        db,
        [
            (new_envelope(STAFF_CREATED, data, tenant_id=tenant_id, mode=mode), f"staff:{data.staff_id}")
            for mode in MODES
        ],
    )
