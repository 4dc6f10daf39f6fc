"""A tenant's published program (what tenant.program.updated carries), for the tests that build a
ledger or a gateway without the tenant service: one sample with the knobs the tests turn."""

from __future__ import annotations

import uuid
from typing import Any

from nujoomy_contracts import Envelope, new_envelope
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

COFFEE = uuid.UUID("00000000-0000-7000-8000-00000000c0fe")
CAKE = uuid.UUID("00000000-0000-7000-8000-00000000cace")


def reward(reward_id: uuid.UUID = COFFEE, name: str = "Coffee", cost: int = 100, **extra: Any) -> Reward:
    return Reward(reward_id=reward_id, name=name, cost=cost, **extra)


def sample_program(
    tenant_id: uuid.UUID,
    *,
    version: int = 1,
    type_: str = "points",
    points_per_unit: int = 2,
    minimum_spend: str | None = None,
    rewards: list[Reward] | None = None,
    expiry: ExpiryPolicy | None = None,
) -> Program:
    """A points program for `tenant_id` (its program id derives from the tenant's), "Café" in
    Paris, rewards `rewards` (default: one Coffee for 100)."""
    return Program(
        program_id=uuid.UUID(int=tenant_id.int ^ 1),
        tenant_id=tenant_id,
        version=version,
        type=type_,  # type: ignore[arg-type]
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=points_per_unit, minimum_spend=minimum_spend),
        rewards=rewards if rewards is not None else [reward()],
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


def program_updated(prog: Program, mode: str) -> Envelope[Program]:
    """The event the tenant service publishes for `prog`."""
    return new_envelope(PROGRAM_UPDATED, prog, tenant_id=prog.tenant_id, mode=mode)  # type: ignore[arg-type]
