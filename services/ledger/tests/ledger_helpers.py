"""Shared by the ledger tests: data shaped like the published language, and the API as a client."""

from __future__ import annotations

import uuid
from typing import Any

from nujoomy_contracts.tenant import ExpiryPolicy, Program, Reward
from nujoomy_ledger.events.consumers import apply_program
from nujoomy_testing.programs import CAKE, COFFEE, program_updated, reward, sample_program
from nujoomy_testing.tokens import TestTokens
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["CAKE", "COFFEE", "Api", "program", "project", "reward"]


def program(
    tenant_id: uuid.UUID,
    *,
    version: int = 1,
    type_: str = "points",
    points_per_unit: int = 1,
    minimum_spend: str | None = None,
    rewards: list[Reward] | None = None,
    expiry: ExpiryPolicy | None = None,
) -> Program:
    """The sample program at 1 point per unit, with a Coffee (100) and a Cake (250) by default."""
    return sample_program(
        tenant_id,
        version=version,
        type_=type_,
        points_per_unit=points_per_unit,
        minimum_spend=minimum_spend,
        rewards=rewards if rewards is not None else [reward(), reward(CAKE, "Cake", 250)],
        expiry=expiry,
    )


async def project(sessions: async_sessionmaker[AsyncSession], prog: Program, mode: str = "live") -> None:
    """Apply a tenant.program.updated event through the ledger's own consumer handler."""
    async with sessions() as session, session.begin():
        await apply_program(session, program_updated(prog, mode))


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
