"""Tenant Pass Type ID certificates (one per tenant and mode)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.domain.certificates import CheckedCertificate

_INFO = "pass_type_id, team_id, fingerprint, not_after, created_at"


async def save(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, checked: CheckedCertificate, sealed_key: bytes
) -> Row[Any]:
    from cryptography.hazmat.primitives import serialization

    return (
        await db.execute(
            text(
                "INSERT INTO tenant_certificates (tenant_id, mode, pass_type_id, team_id, fingerprint, "
                "not_after, certificate, key_ciphertext) VALUES (:t, :m, :p, :team, :f, :na, :c, :k) "
                "ON CONFLICT (tenant_id, mode) DO UPDATE SET pass_type_id = excluded.pass_type_id, "
                "team_id = excluded.team_id, fingerprint = excluded.fingerprint, "
                "not_after = excluded.not_after, certificate = excluded.certificate, "
                f"key_ciphertext = excluded.key_ciphertext, created_at = now() RETURNING {_INFO}"
            ),
            {
                "t": tenant_id,
                "m": mode,
                "p": checked.pass_type_id,
                "team": checked.team_id,
                "f": checked.fingerprint,
                "na": checked.not_after,
                "c": checked.certificate.public_bytes(serialization.Encoding.PEM),
                "k": sealed_key,
            },
        )
    ).one()


async def info(db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> Row[Any] | None:
    return (
        await db.execute(
            text(f"SELECT {_INFO} FROM tenant_certificates WHERE tenant_id = :t AND mode = :m"),
            {"t": tenant_id, "m": mode},
        )
    ).first()


async def remove(db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> bool:
    result = await db.execute(
        text("DELETE FROM tenant_certificates WHERE tenant_id = :t AND mode = :m RETURNING 1"),
        {"t": tenant_id, "m": mode},
    )
    return result.first() is not None


async def current_fingerprint(db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> str | None:
    row = (
        await db.execute(
            text("SELECT fingerprint FROM tenant_certificates WHERE tenant_id = :t AND mode = :m"),
            {"t": tenant_id, "m": mode},
        )
    ).first()
    return None if row is None else str(row[0])


async def material(db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> Row[Any] | None:
    return (
        await db.execute(
            text(
                "SELECT fingerprint, certificate, key_ciphertext FROM tenant_certificates "
                "WHERE tenant_id = :t AND mode = :m"
            ),
            {"t": tenant_id, "m": mode},
        )
    ).first()


async def pass_type_in_use(db: AsyncSession, pass_type_id: str) -> bool:
    row = await db.execute(
        text("SELECT 1 FROM tenant_certificates WHERE pass_type_id = :p LIMIT 1"), {"p": pass_type_id}
    )
    return row.first() is not None
