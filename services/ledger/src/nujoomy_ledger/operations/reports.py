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


async def daily(
    session: AsyncSession, scope: Scope, start: date, end: date, tz: str = "UTC"
) -> list[dict[str, Any]]:
    """Per day in the tenant's time zone. A reversal is netted into the day and the kind of what it
    undid, so an undone redemption is no redemption at all (and no transaction in the count)."""
    rows = await session.execute(
        text(
            """
            WITH t AS (
              SELECT t.points, t.kind, coalesce(o.kind, t.kind) AS k,
                     coalesce(o.created_at, t.created_at) AS effective
                FROM transactions t
                LEFT JOIN transactions o ON o.id = t.reverses
               WHERE t.tenant_id = :tenant AND t.mode = :mode
                 AND t.created_at >= (CAST(:start AS date)::timestamp AT TIME ZONE :tz)
            )
            SELECT (effective AT TIME ZONE :tz)::date AS day,
                   coalesce(sum(points) FILTER (WHERE k = 'earn'), 0)::bigint AS issued,
                   coalesce(-sum(points) FILTER (WHERE k = 'redeem'), 0)::bigint AS redeemed,
                   coalesce(-sum(points) FILTER (WHERE k = 'expire'), 0)::bigint AS expired,
                   coalesce(sum(points) FILTER (WHERE kind = 'reverse'), 0)::bigint AS reversed,
                   coalesce(sum(points) FILTER (WHERE k = 'adjust'), 0)::bigint AS adjusted,
                   (count(*) FILTER (WHERE kind <> 'reverse') - count(*) FILTER (WHERE kind = 'reverse'))
                     AS transactions
              FROM t
             WHERE effective >= (CAST(:start AS date)::timestamp AT TIME ZONE :tz)
               AND effective < ((CAST(:end AS date) + 1)::timestamp AT TIME ZONE :tz)
             GROUP BY 1 ORDER BY 1
            """
        ),
        {"tenant": scope.tenant_id, "mode": scope.mode, "start": start, "end": end, "tz": tz},
    )
    return [dict(r._mapping) for r in rows]
