"""Reports: the outstanding points (the tenant's liability) and daily issued/redeemed/expired."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.operations.scope import Scope


async def outstanding(session: AsyncSession, scope: Scope) -> dict[str, int]:
    # One query over the postings (the truth), not the caches: what members hold is what the
    # system accounts gave out, so the two sums must cancel.
    row = (
        await session.execute(
            text(
                """
                SELECT coalesce(sum(p.amount) FILTER (WHERE a.kind = 'member'), 0) AS outstanding,
                       coalesce(sum(p.amount), 0) AS ledger_sum,
                       count(DISTINCT a.id) FILTER (WHERE a.kind = 'member') AS members
                  FROM postings p JOIN accounts a ON a.id = p.account_id
                 WHERE p.tenant_id = :tenant AND p.mode = :mode
                """
            ),
            {"tenant": scope.tenant_id, "mode": scope.mode},
        )
    ).one()
    return {
        "outstanding_points": int(row.outstanding),
        "ledger_sum": int(row.ledger_sum),
        "members": int(row.members),
    }


async def daily(session: AsyncSession, scope: Scope, start: date, end: date) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """
            SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
                   coalesce(sum(points) FILTER (WHERE kind = 'earn'), 0)::bigint AS issued,
                   coalesce(-sum(points) FILTER (WHERE kind = 'redeem'), 0)::bigint AS redeemed,
                   coalesce(-sum(points) FILTER (WHERE kind = 'expire'), 0)::bigint AS expired,
                   coalesce(sum(points) FILTER (WHERE kind = 'reverse'), 0)::bigint AS reversed,
                   coalesce(sum(points) FILTER (WHERE kind = 'adjust'), 0)::bigint AS adjusted,
                   count(*) AS transactions
              FROM transactions
             WHERE tenant_id = :tenant AND mode = :mode
               AND created_at >= CAST(:start AS date) AND created_at < CAST(:end AS date) + 1
             GROUP BY 1 ORDER BY 1
            """
        ),
        {"tenant": scope.tenant_id, "mode": scope.mode, "start": start, "end": end},
    )
    return [dict(r._mapping) for r in rows]
