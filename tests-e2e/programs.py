"""The program a tenant publishes, projected straight into a ledger database (what the ledger worker
does with tenant.program.updated), for the tests that build a ledger without the tenant service."""

from __future__ import annotations

import uuid

from nujoomy_contracts.tenant import Program
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_testing.programs import COFFEE, program_updated, sample_program

__all__ = ["COFFEE", "program", "project_program"]


def program(tenant_id: uuid.UUID) -> Program:
    """Version 1 of a points program for `tenant_id`: 2 points per unit, one Coffee for 100."""
    return sample_program(tenant_id)


async def project_program(ledger_db: str, prog: Program, mode: str = "test") -> None:
    """What the ledger worker does with tenant.program.updated (its own handler, its own transaction)."""
    from nujoomy_ledger.events.consumers import apply_program

    engine = make_engine(ledger_db, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            await apply_program(session, program_updated(prog, mode))
    finally:
        await engine.dispose()
