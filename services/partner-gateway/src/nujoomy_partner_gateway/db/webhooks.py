"""Webhook endpoints, events, deliveries and attempts. Partner-facing queries filter by (tenant, mode)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from nujoomy_kit.ids import uuid7
from sqlalchemy import Integer, Interval, and_, bindparam, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.db.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from nujoomy_partner_gateway.domain.keys import Mode

E, EV, D, A = webhook_endpoints, webhook_events, webhook_deliveries, webhook_attempts


def _scoped(table: Any, tenant_id: uuid.UUID, mode: Mode) -> Any:
    return and_(table.c.tenant_id == tenant_id, table.c.mode == mode)


async def create_endpoint(db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, **values: Any) -> Row[Any]:
    stmt = insert(E).values(id=uuid7(), tenant_id=tenant_id, mode=mode, **values).returning(E)
    return (await db.execute(stmt)).one()


async def list_endpoints(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, before: uuid.UUID | None, limit: int
) -> list[Row[Any]]:
    stmt = select(E).where(_scoped(E, tenant_id, mode), E.c.deleted_at.is_(None))
    if before is not None:
        stmt = stmt.where(E.c.id < before)
    return list((await db.execute(stmt.order_by(E.c.id.desc()).limit(limit))).all())


async def get_endpoint(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, endpoint_id: uuid.UUID
) -> Row[Any] | None:
    stmt = select(E).where(_scoped(E, tenant_id, mode), E.c.id == endpoint_id, E.c.deleted_at.is_(None))
    return (await db.execute(stmt)).first()


async def update_endpoint(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, endpoint_id: uuid.UUID, **values: Any
) -> Row[Any] | None:
    stmt = (
        update(E)
        .where(_scoped(E, tenant_id, mode), E.c.id == endpoint_id, E.c.deleted_at.is_(None))
        .values(**values)
        .returning(E)
    )
    return (await db.execute(stmt)).first()


async def record_event(
    db: AsyncSession,
    *,
    event_id: uuid.UUID,
    tenant_id: uuid.UUID,
    mode: Mode,
    type_: str,
    body: bytes,
    source_event_id: uuid.UUID | None,
    only_endpoint: uuid.UUID | None = None,
) -> int:
    """Store the public event and schedule one delivery per subscribed, enabled endpoint of its plane."""
    await db.execute(
        pg_insert(EV)
        .values(
            id=event_id,
            tenant_id=tenant_id,
            mode=mode,
            type=type_,
            body=body,
            source_event_id=source_event_id,
        )
        .on_conflict_do_nothing(index_elements=["source_event_id"])
    )
    targets = select(
        func.gen_random_uuid(), E.c.tenant_id, E.c.mode, E.c.id, literal(event_id), func.now()
    ).where(
        _scoped(E, tenant_id, mode),
        E.c.enabled.is_(True),
        E.c.deleted_at.is_(None),
        E.c.event_types.overlap([type_, "*"]) if only_endpoint is None else E.c.id == only_endpoint,
    )
    result = await db.execute(
        pg_insert(D)
        .from_select(["id", "tenant_id", "mode", "endpoint_id", "event_id", "next_attempt_at"], targets)
        .on_conflict_do_nothing(constraint="webhook_deliveries_once")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_FAN_OUT = text(
    """
    WITH events AS (
        INSERT INTO webhook_events (id, tenant_id, mode, type, body, source_event_id)
        SELECT * FROM unnest(
            CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:modes AS text[]),
            CAST(:types AS text[]), CAST(:bodies AS bytea[]), CAST(:ids AS uuid[])
        )
        ON CONFLICT (source_event_id) DO NOTHING
        RETURNING id, tenant_id, mode, type
    )
    INSERT INTO webhook_deliveries (id, tenant_id, mode, endpoint_id, event_id, next_attempt_at)
    SELECT gen_random_uuid(), e.tenant_id, e.mode, e.id, ev.id, now()
    FROM events ev
    JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.mode = ev.mode
    WHERE e.enabled AND e.deleted_at IS NULL AND e.event_types && ARRAY[ev.type, '*']
    ORDER BY ev.id
    ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING
    """
)


async def record_events(db: AsyncSession, events: list[dict[str, Any]]) -> int:
    """`record_event` for many platform events in one statement (the batching consumer): each
    event row (id = its source event id) and one delivery per subscribed, enabled endpoint of its
    plane. Keys: id, tenant_id, mode, type, body. Returns the deliveries scheduled."""
    if not events:
        return 0
    result = await db.execute(
        _FAN_OUT,
        {
            "ids": [e["id"] for e in events],
            "tenants": [e["tenant_id"] for e in events],
            "modes": [e["mode"] for e in events],
            "types": [e["type"] for e in events],
            "bodies": [e["body"] for e in events],
        },
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_DELIVERY_COLUMNS = (*D.c, EV.c.type.label("event_type"))


async def list_deliveries(
    db: AsyncSession,
    endpoint_id: uuid.UUID,
    before: uuid.UUID | None,
    limit: int,
    status: str | None = None,
) -> list[Row[Any]]:
    stmt = select(*_DELIVERY_COLUMNS).join(EV, EV.c.id == D.c.event_id).where(D.c.endpoint_id == endpoint_id)
    if before is not None:
        stmt = stmt.where(D.c.id < before)
    if status:
        stmt = stmt.where(D.c.status == status)
    return list((await db.execute(stmt.order_by(D.c.created_at.desc(), D.c.id.desc()).limit(limit))).all())


async def get_delivery(db: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> Row[Any] | None:
    stmt = (
        select(*_DELIVERY_COLUMNS)
        .join(EV, EV.c.id == D.c.event_id)
        .where(D.c.endpoint_id == endpoint_id, D.c.id == delivery_id)
    )
    return (await db.execute(stmt)).first()


async def attempts_of(db: AsyncSession, delivery_id: uuid.UUID) -> list[Row[Any]]:
    stmt = select(A).where(A.c.delivery_id == delivery_id).order_by(A.c.id)
    return list((await db.execute(stmt)).all())


async def replay(
    db: AsyncSession,
    endpoint_id: uuid.UUID,
    *,
    delivery_id: uuid.UUID | None = None,
    since: datetime | None = None,
) -> int:
    """Deliver again (same webhook-id, so a partner's dedupe still holds): one delivery, or every
    event since a time, including events that reached the plane before the endpoint subscribed."""
    scheduled = 0
    if since is not None:
        endpoint = (await db.execute(select(E).where(E.c.id == endpoint_id))).one()
        missing = select(
            func.gen_random_uuid(),
            literal(endpoint.tenant_id),
            literal(endpoint.mode),
            literal(endpoint_id),
            EV.c.id,
            func.now(),
        ).where(
            _scoped(EV, endpoint.tenant_id, endpoint.mode),
            EV.c.created_at >= since,
            EV.c.type.in_(list(endpoint.event_types)) if "*" not in endpoint.event_types else literal(True),
        )
        await db.execute(
            pg_insert(D)
            .from_select(["id", "tenant_id", "mode", "endpoint_id", "event_id", "next_attempt_at"], missing)
            .on_conflict_do_nothing(constraint="webhook_deliveries_once")
        )
    stmt = update(D).where(D.c.endpoint_id == endpoint_id)
    if delivery_id is not None:
        stmt = stmt.where(D.c.id == delivery_id)
    if since is not None:
        stmt = stmt.where(D.c.created_at >= since)
    result = await db.execute(stmt.values(status="pending", next_attempt_at=func.now(), finished_at=None))
    scheduled += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return scheduled


# ------------------------------------------------------------------------------------ the dispatcher


def _claim_statement() -> Any:
    due = (
        select(D.c.id)
        .where(D.c.status == "pending", D.c.next_attempt_at <= func.now())
        .order_by(D.c.next_attempt_at)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    leased = (
        update(D)
        .where(D.c.id.in_(due))
        .values(next_attempt_at=func.now() + bindparam("lease", type_=Interval))
        .returning(D.c.id, D.c.attempts, D.c.endpoint_id, D.c.event_id, D.c.tenant_id, D.c.mode)
        .cte("leased")
    )
    return (
        select(
            leased,
            EV.c.body,
            E.c.url,
            E.c.secret,
            E.c.previous_secret,
            E.c.previous_secret_expires_at,
            E.c.enabled,
            E.c.failing_since,
        )
        .join(EV, EV.c.id == leased.c.event_id)
        .join(E, E.c.id == leased.c.endpoint_id)
    )


# Built once: constructing this CTE cost more CPU per batch than running it.
_CLAIM = _claim_statement()


async def claim_due(db: AsyncSession, limit: int, lease: timedelta) -> list[Row[Any]]:
    """Due deliveries with everything an attempt needs; leased (pushed into the future) so another
    dispatcher skips them, and a crashed one's lease simply runs out and they are due again."""
    return list((await db.execute(_CLAIM, {"limit": limit, "lease": lease})).all())


# A batch's attempts logged and its deliveries finished or rescheduled in one statement: set-based
# (arrays bound once, encoded by asyncpg), rather than one INSERT and one UPDATE per delivery.
_RECORD = text(
    """
    WITH o AS (
        SELECT * FROM unnest(
            CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:modes AS text[]),
            CAST(:attempted AS timestamptz[]), CAST(:codes AS int[]), CAST(:latencies AS float8[]),
            CAST(:excerpts AS text[]), CAST(:errors AS text[]), CAST(:statuses AS text[]),
            CAST(:counts AS int[]), CAST(:next AS timestamptz[])
        ) AS o(id, tenant_id, mode, attempted_at, code, latency_ms, excerpt, error, status, attempts,
               next_attempt_at)
    ), applied AS (
        UPDATE webhook_deliveries d
        SET status = o.status, attempts = o.attempts, next_attempt_at = o.next_attempt_at,
            last_status_code = o.code,
            finished_at = CASE WHEN o.status = 'pending' THEN NULL ELSE now() END
        FROM o
        WHERE d.id = o.id AND d.attempts = o.attempts - 1
        RETURNING d.id
    ), logged AS (
        INSERT INTO webhook_attempts
            (delivery_id, tenant_id, mode, attempted_at, status_code, latency_ms, response_excerpt, error)
        SELECT o.id, o.tenant_id, o.mode, o.attempted_at, o.code, o.latency_ms, o.excerpt, o.error
        FROM o JOIN applied ON applied.id = o.id
    )
    SELECT id FROM applied
    """
)


async def record_attempts(db: AsyncSession, attempts: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Log one attempt per delivery and apply its outcome. Keys: delivery_id, tenant_id, mode,
    attempted_at, status_code, latency_ms, response_excerpt, error (the attempt); status, attempts
    (the claimed count + 1), next_attempt_at (the delivery's new state).

    Applied only where the delivery still has the attempt count it was claimed with, so recording
    the same outcome twice, or after another worker took the delivery over, changes nothing.
    Returns the deliveries it applied to."""
    if not attempts:
        return set()
    result = await db.execute(
        _RECORD,
        {
            "ids": [a["delivery_id"] for a in attempts],
            "tenants": [a["tenant_id"] for a in attempts],
            "modes": [a["mode"] for a in attempts],
            "attempted": [a["attempted_at"] for a in attempts],
            "codes": [a["status_code"] for a in attempts],
            "latencies": [a["latency_ms"] for a in attempts],
            "excerpts": [a["response_excerpt"] for a in attempts],
            "errors": [a["error"] for a in attempts],
            "statuses": [a["status"] for a in attempts],
            "counts": [a["attempts"] for a in attempts],
            "next": [a["next_attempt_at"] for a in attempts],
        },
    )
    return {row.id for row in result}


_FINISH = (
    update(D)
    .where(D.c.id == bindparam("delivery_id"))
    .values(
        status=bindparam("new_status"),
        attempts=bindparam("new_attempts"),
        next_attempt_at=bindparam("new_next_attempt_at"),
        last_status_code=bindparam("code"),
        finished_at=bindparam("new_finished_at"),
    )
)


async def finish_deliveries(db: AsyncSession, outcomes: list[dict[str, Any]]) -> None:
    """One executemany for a whole batch: keys delivery_id, status, attempts, next_attempt_at, code."""
    if not outcomes:
        return
    now = datetime.now(UTC)
    await db.execute(
        _FINISH,
        [
            {
                "delivery_id": o["delivery_id"],
                "new_status": o["status"],
                "new_attempts": o["attempts"],
                "new_next_attempt_at": o["next_attempt_at"],
                "code": o["code"],
                "new_finished_at": None if o["status"] == "pending" else now,
            }
            for o in outcomes
        ],
    )


async def endpoint_succeeded(db: AsyncSession, endpoint_ids: set[uuid.UUID]) -> None:
    if endpoint_ids:
        await db.execute(
            update(E)
            .where(E.c.id.in_(endpoint_ids), E.c.failing_since.is_not(None))
            .values(failing_since=None)
        )


async def endpoint_failed(db: AsyncSession, endpoint_id: uuid.UUID) -> Row[Any]:
    stmt = (
        update(E)
        .where(E.c.id == endpoint_id)
        .values(failing_since=func.coalesce(E.c.failing_since, func.now()))
        .returning(E)
    )
    return (await db.execute(stmt)).one()


async def disable_endpoint(db: AsyncSession, endpoint_id: uuid.UUID, reason: str) -> Row[Any] | None:
    stmt = (
        update(E)
        .where(E.c.id == endpoint_id, E.c.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason)
        .returning(E)
    )
    row = (await db.execute(stmt)).first()
    if row is not None:
        # Nothing more goes to a disabled endpoint; replay can send these again once it is fixed.
        await db.execute(
            update(D)
            .where(D.c.endpoint_id == endpoint_id, D.c.status == "pending")
            .values(status="cancelled", finished_at=func.now())
        )
    return row


async def list_plane_deliveries(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    mode: Mode,
    *,
    endpoint_id: uuid.UUID | None,
    status: str | None,
    limit: int,
) -> list[Row[Any]]:
    stmt = select(*_DELIVERY_COLUMNS).join(EV, EV.c.id == D.c.event_id).where(_scoped(D, tenant_id, mode))
    if endpoint_id is not None:
        stmt = stmt.where(D.c.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(D.c.status == status)
    return list((await db.execute(stmt.order_by(D.c.created_at.desc()).limit(limit))).all())


async def delivery_endpoint(
    db: AsyncSession, tenant_id: uuid.UUID, mode: Mode, delivery_id: uuid.UUID
) -> uuid.UUID | None:
    stmt = select(D.c.endpoint_id).where(_scoped(D, tenant_id, mode), D.c.id == delivery_id)
    return (await db.execute(stmt)).scalar_one_or_none()
