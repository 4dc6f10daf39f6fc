"""Harness for the reliability suite: an ASGI app served on an ephemeral port, the program a tenant
publishes (what tenant.program.updated carries), and the test-token issuer."""

from __future__ import annotations

import signal
import subprocess
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


class Worker:
    """One `python -m <package> worker` process, as `make up` starts it; SIGKILL-able."""

    def __init__(self, package: str, env: dict[str, str], log: Path) -> None:
        self.package, self.env, self.log = package, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.package, "worker"], env=self.env, stdout=out, stderr=out
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
