"""/internal/v1/reports: the liability and the daily figures (manager and above, or the platform)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import Parameter
from nujoomy_kit.auth import require_role
from nujoomy_kit.problems import InvalidInput
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.api.params import now
from nujoomy_ledger.operations import reports
from nujoomy_ledger.operations.scope import Scope


class ReportsController(Controller):
    path = "/internal/v1/reports"
    guards = [require_role("manager")]

    @get("/outstanding")
    async def outstanding(self, db: AsyncSession, principal: Principal) -> dict[str, int]:
        return await reports.outstanding(db, Scope.of(principal))

    @get("/daily")
    async def daily(
        self,
        db: AsyncSession,
        principal: Principal,
        from_: Annotated[date | None, Parameter(query="from")] = None,
        to: date | None = None,
    ) -> dict[str, Any]:
        end = to or now().date()
        start = from_ or end - timedelta(days=30)
        if start > end or (end - start).days > 366:
            raise InvalidInput("from must be before to, at most a year apart", field="from")
        return {"data": await reports.daily(db, Scope.of(principal), start, end)}
