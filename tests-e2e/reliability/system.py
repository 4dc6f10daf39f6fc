"""Helpers of the two service-slice tests (ledger faults, webhooks): the program a tenant publishes
(what tenant.program.updated carries, projected straight into a ledger database) and a worker
process. The whole-system suite has its own harness (stack.py)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

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

from .stack import Proc

COFFEE = uuid.UUID("00000000-0000-7000-8000-00000000c0fe")


def program(tenant_id: uuid.UUID) -> Program:
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


async def project(ledger_db: str, tenant: uuid.UUID, mode: str = "test") -> None:
    """What the ledger worker does with tenant.program.updated (its own handler, its own transaction)."""
    from nujoomy_ledger.events.consumers import apply_program

    engine = make_engine(ledger_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            event = new_envelope(PROGRAM_UPDATED, program(tenant), tenant_id=tenant, mode=mode)  # type: ignore[arg-type]
            await apply_program(session, event)
    finally:
        await engine.dispose()


class Worker(Proc):
    """One `python -m <package> worker` process, as `make up` starts it; SIGKILL-able."""

    def __init__(self, package: str, env: dict[str, str], log: Path) -> None:
        super().__init__(package, [sys.executable, "-m", package, "worker"], env, log)
