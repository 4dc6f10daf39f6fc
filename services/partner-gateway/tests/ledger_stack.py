"""The real ledger and wallet-pass apps behind the gateway: each built by its own build_app, served on
an ephemeral port with a database from make_db; the tenant's program projected through the
ledger's own consumer handler (what the tenant.program.updated event would do)."""

from __future__ import annotations

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
    Tenant,
    Wording,
)
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction

ROOT = Path(__file__).resolve().parents[3]
LEDGER_MIGRATIONS = ROOT / "services" / "ledger" / "migrations"
WALLET_MIGRATIONS = ROOT / "services" / "wallet-pass" / "migrations"
TENANT_MIGRATIONS = ROOT / "services" / "tenant" / "migrations"
COFFEE = uuid.UUID("00000000-0000-7000-8000-00000000c0fe")


def program(tenant_id: uuid.UUID, reward_name: str = "Coffee") -> Program:
    return Program(
        program_id=uuid.UUID(int=tenant_id.int ^ 1),
        tenant_id=tenant_id,
        version=1,
        type="points",
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=2),
        rewards=[Reward(reward_id=COFFEE, name=reward_name, cost=100)],
        expiry=ExpiryPolicy(kind="months_after_earn", months=12),
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


async def project_program(ledger_db: str, prog: Program, mode: str) -> None:
    from nujoomy_ledger.events.consumers import apply_program

    engine = make_engine(ledger_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            event = new_envelope(PROGRAM_UPDATED, prog, tenant_id=prog.tenant_id, mode=mode)  # type: ignore[arg-type]
            await apply_program(session, event)
    finally:
        await engine.dispose()
