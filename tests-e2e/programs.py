"""The program a tenant publishes (what tenant.program.updated carries), for the tests that build a
ledger without the tenant service: the Struct, and its projection straight into a ledger database
(what the ledger worker does with the event)."""

from __future__ import annotations

import uuid

from nujoomy_contracts import new_envelope
from nujoomy_contracts.tenant import (
    PROGRAM_UPDATED,
    Branding,
    EarnRule,
    ExpiryPolicy,
    Program,
    Reward,
    Wording,
)
from nujoomy_contracts.tenant import Tenant as TenantInfo
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction

COFFEE = uuid.UUID("00000000-0000-7000-8000-00000000c0fe")  # the one reward: "Coffee", 100 points


def program(tenant_id: uuid.UUID) -> Program:
    """Version 1 of a points program for `tenant_id` (its program id derives from the tenant's)."""
    return Program(
        program_id=uuid.UUID(int=tenant_id.int ^ 1),
        tenant_id=tenant_id,
        version=1,
        type="points",
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=2),
        rewards=[Reward(reward_id=COFFEE, name="Coffee", cost=100)],
        expiry=ExpiryPolicy(kind="months_after_earn", months=12),
        wording=Wording(balance_label="Beans"),
        branding=Branding(background_color="#000000", foreground_color="#FFFFFF", label_color="#CCCCCC"),
        tenant=TenantInfo(
            tenant_id=tenant_id,
            slug=f"t{tenant_id.hex[:8]}",
            name="Café",
            locale="en",
            timezone="Europe/Paris",
            currency="EUR",
            status="active",
        ),
    )


async def project_program(ledger_db: str, prog: Program, mode: str = "test") -> None:
    """What the ledger worker does with tenant.program.updated (its own handler, its own transaction)."""
    from nujoomy_ledger.events.consumers import apply_program

    engine = make_engine(ledger_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            event = new_envelope(PROGRAM_UPDATED, prog, tenant_id=prog.tenant_id, mode=mode)  # type: ignore[arg-type]
            await apply_program(session, event)
    finally:
        await engine.dispose()
