"""/internal/v1/reports: the liability, the daily figures and the CSV exports of members and
transactions (manager and above, or the platform)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Stream
from nujoomy_kit.auth import require_role
from nujoomy_kit.problems import InvalidInput
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.api.params import now
from nujoomy_ledger.operations import exports, reports
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
        tz: str = "UTC",
    ) -> dict[str, Any]:
        zone = time_zone(tz)
        end = to or now().astimezone(ZoneInfo(zone)).date()  # "today" where the business is
        start = from_ or end - timedelta(days=30)
        if start > end or (end - start).days > 366:
            raise InvalidInput("from must be before to, at most a year apart", field="from")
        return {"data": await reports.daily(db, Scope.of(principal), start, end, zone)}

    @get("/members.csv")
    async def members_csv(self, request: Request[Any, Any, Any], principal: Principal) -> Stream:
        rows = exports.members_csv(request.app.state["sessions"], Scope.of(principal))
        return _csv(rows, "members.csv")

    @get("/transactions.csv")
    async def transactions_csv(self, request: Request[Any, Any, Any], principal: Principal) -> Stream:
        rows = exports.transactions_csv(request.app.state["sessions"], Scope.of(principal))
        return _csv(rows, "transactions.csv")


def _csv(rows: AsyncIterator[bytes], filename: str) -> Stream:
    return Stream(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def time_zone(name: str) -> str:
    """An IANA zone name (the tenant's `timezone`); anything else is refused, never passed to SQL."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("tz must be an IANA time zone name", field="tz") from None
    return name
