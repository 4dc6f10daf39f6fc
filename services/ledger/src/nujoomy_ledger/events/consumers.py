"""The ledger service's consumer purposes: one durable queue each."""

from __future__ import annotations

from typing import Any

from nujoomy_contracts import Envelope
from nujoomy_contracts.tenant import PROGRAM_UPDATED, Program
from nujoomy_messaging import ConsumerSpec
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.db.programs import upsert_program
from nujoomy_ledger.settings import Settings

PROGRAMS = "ledger.programs"


async def apply_program(session: AsyncSession, event: Envelope[Any]) -> None:
    """Project the program; an older version than the one held is dropped (events may reorder)."""
    program: Program = event.data
    await upsert_program(session, event.tenant_id, event.mode, program)


def consumer_specs(settings: Settings) -> list[ConsumerSpec]:
    return [ConsumerSpec(name=PROGRAMS, routing_keys=(PROGRAM_UPDATED,), handler=apply_program)]


# The names the CLI knows for dead-letter inspection (`nujoomy dlq list`).
CONSUMER_NAMES: tuple[str, ...] = (PROGRAMS,)
