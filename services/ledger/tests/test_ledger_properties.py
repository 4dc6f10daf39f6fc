"""Property tests over random sequences of earn/redeem/reverse/expire/replay on real PostgreSQL.

After every step: the ledger sums to zero, the cached balance equals the sum of the member's
postings, a spend never takes the balance below zero (only reversing an earn may), and replaying
any earlier request with its key changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nujoomy_contracts.tenant import Program
from nujoomy_kit.db import plain_url
from nujoomy_kit.problems import DomainError
from nujoomy_ledger.operations import members, points
from nujoomy_ledger.operations.expiry import run_expiry
from nujoomy_ledger.operations.scope import Scope
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 200)),
        st.tuples(st.just("redeem"), st.integers(1, 250)),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
        st.tuples(st.just("expire"), st.integers(0, 20)),
        st.tuples(st.just("replay"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=14,
)


async def invariants(conn: asyncpg.Connection, member_id: uuid.UUID) -> int:
    assert await conn.fetchval("SELECT coalesce(sum(amount), 0) FROM postings") == 0
    unbalanced = await conn.fetchval(
        "SELECT count(*) FROM (SELECT transaction_id FROM postings GROUP BY 1 HAVING sum(amount) <> 0) x"
    )
    assert unbalanced == 0
    cached = await conn.fetchval("SELECT balance FROM balances WHERE account_id = $1", member_id)
    posted = await conn.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM postings WHERE account_id = $1", member_id
    )
    assert cached == posted
    return int(cached)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
async def test_random_sequences_keep_the_ledger_right(
    sequence: list[Step],
    sessions: async_sessionmaker[AsyncSession],
    points_program: Program,
    tenant: uuid.UUID,
    db_url: str,
) -> None:
    scope = Scope(tenant_id=tenant, mode="live")
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        member_id = (await members.enrol(session, scope, {"name": "Prop"})).id
    who = points.Who(member_id=member_id)
    done: list[tuple[str, dict[str, Any]]] = []  # (op, kwargs) of requests that succeeded
    posted: list[tuple[uuid.UUID, str, int]] = []  # (txn id, kind, points)
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        balance = 0
        for op, n in sequence:
            before = balance
            refused: str | None = None
            try:
                async with sessions() as session, session.begin():
                    if op == "earn":
                        kwargs: dict[str, Any] = {"key": uuid.uuid4().hex, "points": n, "now": now}
                        result = await points.earn(session, scope, who, **kwargs)
                        done.append(("earn", kwargs))
                    elif op == "redeem":
                        kwargs = {"key": uuid.uuid4().hex, "points": n, "now": now}
                        result = await points.redeem(session, scope, who, **kwargs)
                        assert before - (await _reserved(conn, member_id)) >= n, (
                            "a spend beyond the balance posted"
                        )
                        done.append(("redeem", kwargs))
                    elif op == "reverse" and posted:
                        txn_id, _, _ = posted[n % len(posted)]
                        kwargs = {
                            "key": uuid.uuid4().hex,
                            "reason": None,
                            "now": now,
                            "window": timedelta(hours=1),
                        }
                        result = await points.reverse(session, scope, txn_id, **kwargs)
                        done.append(("reverse", {**kwargs, "txn_id": txn_id}))
                    elif op == "expire":
                        # Age the lot at index n (if any) so the run finds it due.
                        lot = await conn.fetchval(
                            "SELECT id FROM earn_lots WHERE member_id = $1 AND remaining > 0 "
                            "ORDER BY id OFFSET $2",
                            member_id,
                            n % 3,
                        )
                        if lot is not None:
                            await conn.execute(
                                "UPDATE earn_lots SET expires_at = now() - interval '1 day' WHERE id = $1",
                                lot,
                            )
                        result = None
                    elif op == "replay" and done:
                        kind, kwargs = done[n % len(done)]
                        count = await conn.fetchval("SELECT count(*) FROM transactions")
                        if kind == "reverse":
                            args = {k: v for k, v in kwargs.items() if k != "txn_id"}
                            result = await points.reverse(session, scope, kwargs["txn_id"], **args)
                        else:
                            result = await getattr(points, kind)(session, scope, who, **kwargs)
                        assert result.replayed
                        assert await conn.fetchval("SELECT count(*) FROM transactions") == count
                    else:
                        result = None
                if op == "expire":
                    await run_expiry(sessions, datetime.now(UTC))
                if result is not None and not result.replayed:
                    t = result.transaction
                    posted.append((t.id, t.kind, t.points))
                    if t.kind in ("redeem", "expire"):
                        assert t.balance_after >= 0
            except DomainError as error:
                refused = error.code
            # Refusals are the rules at work: not enough points, reversing twice or a reversal.
            assert refused in {None, "insufficient_points", "already_reversed", "not_reversible"}
            balance = await invariants(conn, member_id)
            if op == "replay":
                assert balance == before
            if op in ("redeem", "expire"):
                assert balance >= min(before, 0), (op, before, balance)
    finally:
        await conn.close()


async def _reserved(conn: asyncpg.Connection, member_id: uuid.UUID) -> int:
    return int(await conn.fetchval("SELECT reserved FROM balances WHERE account_id = $1", member_id))
