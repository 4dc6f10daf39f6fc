"""Helpers of the two service-slice tests (ledger faults, webhooks): a tenant's program projected
straight into a ledger database (the program itself is shared with the security tests:
../programs.py) and a worker process. The whole-system suite has its own harness (stack.py)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

# tests-e2e is no importable name (the hyphen): its shared modules are reached relatively.
from ..programs import program, project_program  # noqa: TID252
from .stack import Proc


async def project(ledger_db: str, tenant: uuid.UUID, mode: str = "test") -> None:
    """The ledger learns `tenant`'s program (programs.program) as its worker would."""
    await project_program(ledger_db, program(tenant), mode)


class Worker(Proc):
    """One `python -m <package> worker` process, as `make up` starts it; SIGKILL-able."""

    def __init__(self, package: str, env: dict[str, str], log: Path) -> None:
        super().__init__(package, [sys.executable, "-m", package, "worker"], env, log)
