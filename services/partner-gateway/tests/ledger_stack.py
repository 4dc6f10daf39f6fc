"""The real ledger and wallet-pass apps behind the gateway: each built by its own build_app, served on
an ephemeral port with a database from make_db; the tenant's program projected through the
ledger's own consumer handler (what the tenant.program.updated event would do)."""

from __future__ import annotations

import uuid
from pathlib import Path

from nujoomy_contracts.tenant import Program
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_testing.programs import program_updated, reward, sample_program

ROOT = Path(__file__).resolve().parents[3]
LEDGER_MIGRATIONS = ROOT / "services" / "ledger" / "migrations"
WALLET_MIGRATIONS = ROOT / "services" / "wallet-pass" / "migrations"
TENANT_MIGRATIONS = ROOT / "services" / "tenant" / "migrations"


def program(tenant_id: uuid.UUID, reward_name: str = "Coffee") -> Program:
    return sample_program(tenant_id, rewards=[reward(name=reward_name)])


async def project_program(ledger_db: str, prog: Program, mode: str) -> None:
    from nujoomy_ledger.events.consumers import apply_program

    engine = make_engine(ledger_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            await apply_program(session, program_updated(prog, mode))
    finally:
        await engine.dispose()
