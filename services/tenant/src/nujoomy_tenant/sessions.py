"""Staff sessions: login, refresh-token rotation with reuse detection, logout, password set.

A refresh token belongs to a family (one login). Each refresh spends the presented token and issues
the next one in the family; presenting a spent token means two parties hold it (one of them stole it),
so the whole family is revoked and both must sign in again (OAuth 2.0 Security BCP, RFC 9700 §4.14).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from nujoomy_kit.ids import encode_id, uuid7
from nujoomy_kit.tokens import load_private_key
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db import keys as key_db
from nujoomy_tenant.db import staff as staff_db
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import validation
from nujoomy_tenant.domain.errors import (
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidSetupToken,
    RefreshTokenReused,
    TenantSuspended,
)
from nujoomy_tenant.domain.passwords import hash_password, verify_password
from nujoomy_tenant.domain.session_tokens import opaque_token, sign_access_token, token_hash
from nujoomy_tenant.settings import Settings


class StaffOut(msgspec.Struct, kw_only=True):
    id: str
    email: str
    name: str
    role: str
    disabled: bool
    created_at: datetime


class TenantOut(msgspec.Struct, kw_only=True):
    id: str
    slug: str
    name: str
    locale: str
    timezone: str
    currency: str
    status: str
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None
    country: str | None = None


class SessionOut(msgspec.Struct, kw_only=True):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"
    staff: StaffOut
    tenant: TenantOut


def staff_out(row: Any) -> StaffOut:
    return StaffOut(
        id=encode_id("stf", row["id"]),
        email=row["email"],
        name=row["name"],
        role=row["role"],
        disabled=row["disabled"],
        created_at=row["created_at"],
    )


def tenant_out(row: Any) -> TenantOut:
    return TenantOut(
        id=encode_id("ten", row["id"]),
        slug=row["slug"],
        name=row["name"],
        locale=row["locale"],
        timezone=row["timezone"],
        currency=row["currency"],
        status=row["status"],
        contact_email=row["contact_email"],
        contact_phone=row["contact_phone"],
        website=row["website"],
        country=row["country"],
    )


async def authenticate(db: AsyncSession, slug: str, email: str, password: str) -> RowMapping:
    """The staff row for these credentials, or InvalidCredentials whatever the reason (no tenant,
    no user, disabled, no password yet, wrong password): one answer, one cost."""
    row = await staff_db.staff_for_login(db, slug.strip().lower(), email.strip().lower())
    ok = verify_password(row["password_hash"] if row else None, password)
    if row is None or not ok or row["disabled"]:
        raise InvalidCredentials("Wrong email or password")
    if row["tenant_status"] != "active":
        # Only after the password matched: this tells nothing to someone guessing.
        raise TenantSuspended("This business is suspended; contact support")
    return row


async def start_session(db: AsyncSession, staff: RowMapping, settings: Settings) -> SessionOut:
    return await _issue(db, staff, settings, family_id=uuid7())


async def _issue(db: AsyncSession, staff: RowMapping, settings: Settings, family_id: uuid.UUID) -> SessionOut:
    tenant = await tenant_db.tenant_by_id(db, staff["tenant_id"])
    assert tenant is not None
    key = await key_db.ensure_key(db)
    access = sign_access_token(
        load_private_key(key["private_pem"]),
        key["kid"],
        staff_id=staff["id"],
        tenant_id=staff["tenant_id"],
        role=staff["role"],
        ttl=settings.access_ttl_seconds,
    )
    refresh = opaque_token()
    await staff_db.insert_refresh_token(
        db,
        {
            "token_hash": token_hash(refresh),
            "tenant_id": staff["tenant_id"],
            "staff_id": staff["id"],
            "family_id": family_id,
            "expires_at": datetime.now(UTC) + timedelta(seconds=settings.refresh_ttl_seconds),
        },
    )
    return SessionOut(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_ttl_seconds,
        staff=staff_out(staff),
        tenant=tenant_out(tenant),
    )


async def refresh(db: AsyncSession, presented: str, settings: Settings) -> SessionOut:
    """Spend `presented` and issue its successor. On reuse the family is revoked *and committed*: the
    caller must return the RefreshTokenReused answer without rolling back (see api/auth.py)."""
    now = datetime.now(UTC)
    row = await staff_db.refresh_token(db, token_hash(presented))
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
        raise InvalidRefreshToken("Sign in again")
    if row["used_at"] is not None:
        await staff_db.revoke_family(db, row["family_id"], now)
        raise RefreshTokenReused("This refresh token was already used; every session of this login ended")
    await staff_db.mark_refresh_used(db, row["token_hash"], now)
    staff = await staff_db.staff_member(db, row["tenant_id"], row["staff_id"])
    tenant = await tenant_db.tenant_by_id(db, row["tenant_id"])
    if staff is None or staff["disabled"] or tenant is None:
        raise InvalidRefreshToken("Sign in again")
    if tenant["status"] != "active":
        raise TenantSuspended("This business is suspended; contact support")
    return await _issue(db, staff, settings, family_id=row["family_id"])


async def logout(db: AsyncSession, presented: str) -> None:
    row = await staff_db.refresh_token(db, token_hash(presented))
    if row is not None:
        await staff_db.revoke_family(db, row["family_id"], datetime.now(UTC))


async def set_password(db: AsyncSession, token: str, password: str) -> RowMapping:
    """Use a one-time invite/reset token. The password is checked first so a weak one does not burn it."""
    validation.password(password)
    now = datetime.now(UTC)
    used = await staff_db.consume_setup_token(db, token_hash(token), now)
    if used is None:
        raise InvalidSetupToken("This link is invalid, already used or expired; ask for a new one")
    await staff_db.update_staff(
        db, used["tenant_id"], used["staff_id"], {"password_hash": hash_password(password)}
    )
    # A reset means the old password may be known to someone else: end every existing session.
    await staff_db.revoke_staff_sessions(db, used["tenant_id"], used["staff_id"], now)
    staff = await staff_db.staff_member(db, used["tenant_id"], used["staff_id"])
    assert staff is not None
    return staff


async def change_password(
    db: AsyncSession, tenant_id: uuid.UUID, staff_id: uuid.UUID, current: str, new: str
) -> RowMapping:
    """A signed-in staff member changes their own password; every refresh family of theirs ends."""
    staff = await staff_db.staff_member(db, tenant_id, staff_id)
    if staff is None or staff["disabled"] or not verify_password(staff["password_hash"], current):
        raise InvalidCredentials("The current password is wrong")
    validation.password(new)
    await staff_db.update_staff(db, tenant_id, staff_id, {"password_hash": hash_password(new)})
    await staff_db.revoke_staff_sessions(db, tenant_id, staff_id, datetime.now(UTC))
    return staff
