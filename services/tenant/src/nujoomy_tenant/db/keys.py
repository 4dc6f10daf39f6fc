"""Signing keys for staff tokens. The newest unretired key signs; retired keys stay published for an
overlap so tokens they signed keep verifying until they expire, then drop out of the JWKS."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nujoomy_kit.tokens import key_id, private_pem
from sqlalchemy import RowMapping, delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db.tables import signing_keys

# Any constant shared by every tenant process: serialises "create the first key" and rotations.
_KEY_LOCK = 0x7E4A4E7


async def current_key(db: AsyncSession) -> RowMapping | None:
    query = (
        select(signing_keys)
        .where(signing_keys.c.retired_at.is_(None))
        .order_by(signing_keys.c.created_at.desc())
        .limit(1)
    )
    return (await db.execute(query)).mappings().first()


async def ensure_key(db: AsyncSession) -> RowMapping:
    key = await current_key(db)
    if key is not None:
        return key
    await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _KEY_LOCK})
    key = await current_key(db)
    if key is not None:
        return key
    return await _insert_new(db)


async def _insert_new(db: AsyncSession) -> RowMapping:
    private = Ed25519PrivateKey.generate()
    kid = key_id(private.public_key())
    result = await db.execute(
        signing_keys.insert().values(kid=kid, private_pem=private_pem(private)).returning(signing_keys)
    )
    row: RowMapping = result.mappings().one()
    return row


async def rotate(db: AsyncSession, now: datetime, overlap: timedelta) -> tuple[str, list[str]]:
    """Retire the signing key(s), start a new one, forget keys retired longer than `overlap` ago.
    Returns the new kid and the kids removed."""
    await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _KEY_LOCK})
    await db.execute(update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=now))
    new = await _insert_new(db)
    removed = await db.execute(
        delete(signing_keys).where(signing_keys.c.retired_at < now - overlap).returning(signing_keys.c.kid)
    )
    return str(new["kid"]), list(removed.scalars())


async def published_keys(db: AsyncSession, now: datetime, overlap: timedelta) -> Sequence[RowMapping]:
    query = (
        select(signing_keys)
        .where(or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > now - overlap))
        .order_by(signing_keys.c.created_at.desc())
    )
    return (await db.execute(query)).mappings().all()
