"""The rewards catalog. A reward is part of the program: each change is a new program version."""

from __future__ import annotations

from typing import Any

from litestar import delete, get, patch, post
from msgspec import UNSET
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import encode_id, uuid7
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.api.common import parse_id
from nujoomy_tenant.api.schemas import RewardIn, RewardList, RewardOut, RewardPatch
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import program as rules
from nujoomy_tenant.domain.errors import NotFound
from nujoomy_tenant.events import publishing

MANAGER = [require_role("manager")]
READ = [require_role("manager", "program:read")]
LIMITS = ("limit_per_day", "limit_per_week", "limit_per_month")


def reward_out(row: Any) -> RewardOut:
    return RewardOut(
        id=encode_id("rwd", row["id"]),
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


async def _lock_program(db: AsyncSession, principal: Principal) -> None:
    if await tenant_db.program_for(db, principal.tenant_id, lock=True) is None:
        raise NotFound("No such program")


@get("/internal/v1/rewards", guards=READ)
async def list_rewards(db: AsyncSession, principal: Principal) -> RewardList:
    return RewardList(data=[reward_out(r) for r in await tenant_db.rewards_for(db, principal.tenant_id)])


@post("/internal/v1/rewards", guards=MANAGER)
async def create_reward(data: RewardIn, db: AsyncSession, principal: Principal) -> RewardOut:
    values: dict[str, Any] = {
        "id": uuid7(),
        "tenant_id": principal.tenant_id,
        "name": rules.required_text("name", data.name, 120),
        "description": rules.text("description", data.description, 1000),
        "cost": rules.reward_cost(data.cost),
        "active_from": data.active_from,
        "active_until": data.active_until,
        "active": data.active,
    }
    for field in LIMITS:
        values[field] = rules.reward_limit(field, getattr(data, field))
    rules.active_window(data.active_from, data.active_until)
    await _lock_program(db, principal)
    await tenant_db.insert_reward(db, values)
    await publishing.program_changed(db, principal.tenant_id)
    row = await tenant_db.reward(db, principal.tenant_id, values["id"])
    return reward_out(row)


@get("/internal/v1/rewards/{reward_id:str}", guards=READ)
async def read_reward(reward_id: str, db: AsyncSession, principal: Principal) -> RewardOut:
    row = await tenant_db.reward(db, principal.tenant_id, parse_id("rwd", reward_id))
    if row is None:
        raise NotFound("No such reward")
    return reward_out(row)


@patch("/internal/v1/rewards/{reward_id:str}", guards=MANAGER)
async def edit_reward(reward_id: str, data: RewardPatch, db: AsyncSession, principal: Principal) -> RewardOut:
    rid = parse_id("rwd", reward_id)
    await _lock_program(db, principal)
    row = await tenant_db.reward(db, principal.tenant_id, rid)
    if row is None:
        raise NotFound("No such reward")
    changes: dict[str, Any] = {}
    if data.name is not UNSET:
        changes["name"] = rules.required_text("name", data.name, 120)
    if data.description is not UNSET:
        changes["description"] = rules.text("description", data.description, 1000)
    if data.cost is not UNSET:
        changes["cost"] = rules.reward_cost(data.cost)
    for field in (*LIMITS, "active_from", "active_until", "active"):
        value = getattr(data, field)
        if value is not UNSET:
            changes[field] = rules.reward_limit(field, value) if field in LIMITS else value
    rules.active_window(
        changes.get("active_from", row["active_from"]), changes.get("active_until", row["active_until"])
    )
    if changes:
        await tenant_db.update_reward(db, principal.tenant_id, rid, changes)
        await publishing.program_changed(db, principal.tenant_id)
    return reward_out(await tenant_db.reward(db, principal.tenant_id, rid))


@delete("/internal/v1/rewards/{reward_id:str}", guards=MANAGER)
async def delete_reward(reward_id: str, db: AsyncSession, principal: Principal) -> None:
    """Soft delete: ledger history keeps pointing at the reward id; the catalog no longer lists it."""
    rid = parse_id("rwd", reward_id)
    await _lock_program(db, principal)
    if await tenant_db.reward(db, principal.tenant_id, rid) is None:
        raise NotFound("No such reward")
    await tenant_db.update_reward(db, principal.tenant_id, rid, {"deleted": True, "active": False})
    await publishing.program_changed(db, principal.tenant_id)


ROUTES = [list_rewards, create_reward, read_reward, edit_reward, delete_reward]
