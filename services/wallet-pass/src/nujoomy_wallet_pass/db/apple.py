"""Apple device registrations and the passes they hold."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession


async def apple_pass(db: AsyncSession, pass_id: uuid.UUID) -> Row[Any] | None:
    """The Apple pass by id (from a serial number): the device gives no tenant, the token proves it."""
    return (
        await db.execute(
            text(
                "SELECT p.id, p.tenant_id, p.mode, p.member_id, p.authentication_token, p.updated_at, "
                "p.generation "
                "FROM passes p JOIN members m ON m.tenant_id = p.tenant_id AND m.mode = p.mode "
                "AND m.member_id = p.member_id WHERE p.id = :id AND p.wallet = 'apple' AND m.status = "
                "'active'"
            ),
            {"id": pass_id},
        )
    ).first()


async def register(db: AsyncSession, device: str, pass_row: Row[Any], push_token: str) -> bool:
    """True when the registration is new (201), False when it existed (200; push token refreshed)."""
    result = await db.execute(
        text(
            "INSERT INTO apple_registrations (device_library_id, pass_id, tenant_id, mode, push_token) "
            "VALUES (:d, :p, :t, :m, :pt) ON CONFLICT (device_library_id, pass_id) "
            "DO UPDATE SET push_token = excluded.push_token RETURNING (xmax = 0) AS inserted"
        ),
        {"d": device, "p": pass_row.id, "t": pass_row.tenant_id, "m": pass_row.mode, "pt": push_token},
    )
    return bool(result.scalar_one())


async def unregister(db: AsyncSession, device: str, pass_id: uuid.UUID) -> bool:
    result = await db.execute(
        text("DELETE FROM apple_registrations WHERE device_library_id = :d AND pass_id = :p RETURNING 1"),
        {"d": device, "p": pass_id},
    )
    return result.first() is not None


async def drop_push_token(
    db: AsyncSession, pass_ids: list[uuid.UUID], push_token: str
) -> list[tuple[uuid.UUID, str]]:
    """APNs said 410 Unregistered: forget the registrations of these passes using this token; return
    (pass, device) for each."""
    rows = await db.execute(
        text(
            "DELETE FROM apple_registrations WHERE pass_id = ANY(CAST(:p AS uuid[])) AND push_token = :pt "
            "RETURNING pass_id, device_library_id"
        ),
        {"p": pass_ids, "pt": push_token},
    )
    return [(r[0], r[1]) for r in rows]


async def updated_serials(
    db: AsyncSession, device: str, since: datetime | None
) -> list[tuple[uuid.UUID, datetime, uuid.UUID, str]]:
    """(pass id, Last-Modified, tenant, mode) of the device's passes changed since `since`."""
    rows = await db.execute(
        text(
            "SELECT p.id, p.updated_at, p.tenant_id, p.mode FROM apple_registrations r "
            "JOIN passes p ON p.id = r.pass_id "
            "WHERE r.device_library_id = :d "
            "AND (CAST(:since AS timestamptz) IS NULL OR p.updated_at > :since)"
        ),
        {"d": device, "since": since},
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def push_targets(db: AsyncSession, pass_id: uuid.UUID) -> list[str]:
    rows = await db.execute(
        text("SELECT DISTINCT push_token FROM apple_registrations WHERE pass_id = :p"), {"p": pass_id}
    )
    return [r[0] for r in rows]


async def mark_fetched(db: AsyncSession, pass_id: uuid.UUID) -> None:
    await db.execute(text("UPDATE passes SET last_fetched_at = now() WHERE id = :p"), {"p": pass_id})
