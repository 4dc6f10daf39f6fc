"""Shared by the ledger tests: data shaped like the published language, and the API as a client."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from nujoomy_contracts import new_envelope
from nujoomy_contracts.tenant import (
    PROGRAM_UPDATED,
    Branding,
    EarnRule,
    ExpiryPolicy,
    Program,
    Reward,
    Tenant,
    Wording,
)
from nujoomy_ledger.events.consumers import apply_program
from nujoomy_testing.tokens import TestTokens
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

COFFEE = uuid.UUID("00000000-0000-7000-8000-00000000c0fe")
CAKE = uuid.UUID("00000000-0000-7000-8000-00000000cace")


def reward(reward_id: uuid.UUID = COFFEE, name: str = "Coffee", cost: int = 100, **extra: Any) -> Reward:
    return Reward(reward_id=reward_id, name=name, cost=cost, **extra)


def program(
    tenant_id: uuid.UUID,
    *,
    version: int = 1,
    type_: str = "points",
    points_per_unit: int = 1,
    minimum_spend: str | None = None,
    rewards: list[Reward] | None = None,
    expiry: ExpiryPolicy | None = None,
    created: datetime | None = None,
) -> Program:
    return Program(
        program_id=uuid.UUID(int=tenant_id.int ^ 1),
        tenant_id=tenant_id,
        version=version,
        type=type_,  # type: ignore[arg-type]
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=points_per_unit, minimum_spend=minimum_spend),
        rewards=rewards if rewards is not None else [reward(), reward(CAKE, "Cake", 250)],
        expiry=expiry or ExpiryPolicy(kind="months_after_earn", months=12),
        wording=Wording(balance_label="Beans"),
        branding=Branding(background_color="#000000", foreground_color="#FFFFFF", label_color="#CCCCCC"),
        tenant=Tenant(
            tenant_id=tenant_id,
            slug=f"t{tenant_id.hex[:8]}",
            name="Café",
            locale="en",
            timezone="Europe/Paris",
            currency="EUR",
            status="active",
        ),
    )


async def project(sessions: async_sessionmaker[AsyncSession], prog: Program, mode: str = "live") -> None:
    """Apply a tenant.program.updated event through the ledger's own consumer handler."""
    event = new_envelope(PROGRAM_UPDATED, prog, tenant_id=prog.tenant_id, mode=mode)  # type: ignore[arg-type]
    async with sessions() as session, session.begin():
        await apply_program(session, event)


class Api:
    """The internal API as the gateway calls it, for one tenant and mode."""

    def __init__(self, client: Any, tokens: TestTokens, tenant: uuid.UUID, mode: str = "live") -> None:
        self.client = client
        self.headers = tokens.headers(tokens.internal(tenant, mode))  # type: ignore[arg-type]

    async def enrol(self, **fields: Any) -> dict[str, Any]:
        r = await self.client.post("/internal/v1/members", json=fields, headers=self.headers)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def earn(self, member: str, **body: Any) -> Any:
        body.setdefault("idempotency_key", uuid.uuid4().hex)
        return await self.client.post(f"/internal/v1/members/{member}/earn", json=body, headers=self.headers)

    async def redeem(self, member: str, **body: Any) -> Any:
        body.setdefault("idempotency_key", uuid.uuid4().hex)
        return await self.client.post(
            f"/internal/v1/members/{member}/redeem", json=body, headers=self.headers
        )

    async def reverse(self, txn: str, **body: Any) -> Any:
        body.setdefault("idempotency_key", uuid.uuid4().hex)
        return await self.client.post(
            f"/internal/v1/transactions/{txn}/reverse", json=body, headers=self.headers
        )

    async def member(self, member: str) -> Any:
        return await self.client.get(f"/internal/v1/members/{member}", headers=self.headers)
