"""Creating a tenant with its program and first owner, and inviting staff: shared by the API and the CLI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec
from nujoomy_contracts.tenant import TENANT_CREATED, TENANT_UPDATED
from nujoomy_kit.ids import uuid7
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant.db import staff as staff_db
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.domain import program as rules
from nujoomy_tenant.domain import validation
from nujoomy_tenant.domain.errors import EmailTaken, NotFound, SlugTaken
from nujoomy_tenant.domain.passwords import hash_password
from nujoomy_tenant.domain.session_tokens import opaque_token, token_hash
from nujoomy_tenant.events import publishing

Role = Literal["owner", "manager", "staff"]


class NewTenant(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    owner_email: str
    owner_name: str = ""
    owner_password: str | None = None  # set directly (demo seed); otherwise the owner gets an invite link
    locale: str = "en"
    country: str | None = None  # unset: the locale's region, if it has one
    timezone: str = "Europe/Paris"
    currency: str = "EUR"
    program_type: str = "points"
    points_per_unit: int = 1
    balance_label: str = "Points"
    background_color: str = "#1F2937"
    foreground_color: str = "#FFFFFF"
    label_color: str = "#FBBF24"


class Invited(msgspec.Struct, kw_only=True):
    staff: dict[str, object]
    token: str | None


class Created(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    program_id: uuid.UUID
    owner: Invited


async def create_tenant(db: AsyncSession, new: NewTenant, *, invite_ttl: int) -> Created:
    tenant_id = uuid7()
    tenant_values = {
        "id": tenant_id,
        "slug": validation.slug(new.slug),
        "name": rules.required_text("name", new.name, 120),
        "locale": validation.locale(new.locale),
        "country": (
            validation.country(new.country) if new.country else validation.country_of_locale(new.locale)
        ),
        "timezone": validation.timezone(new.timezone),
        "currency": validation.currency(new.currency),
        "status": "active",
    }
    owner_email = validation.email(new.owner_email, "owner_email")
    if new.owner_password is not None:
        validation.password(new.owner_password)
    if not await tenant_db.insert_tenant(db, tenant_values):
        raise SlugTaken(f"The slug {new.slug!r} is taken", field="slug")
    program_id = uuid7()
    await tenant_db.insert_program(
        db,
        {
            "id": program_id,
            "tenant_id": tenant_id,
            "version": 0,  # program_changed() below makes it 1 and publishes it
            "type": rules.program_type(new.program_type),
            "points_per_unit": rules.points_per_unit(new.points_per_unit),
            "balance_label": rules.required_text("balance_label", new.balance_label, 40),
            "program_name": new.name,
            "background_color": validation.color("background_color", new.background_color),
            "foreground_color": validation.color("foreground_color", new.foreground_color),
            "label_color": validation.color("label_color", new.label_color),
        },
    )
    tenant = await tenant_db.tenant_by_id(db, tenant_id)
    assert tenant is not None
    await publishing.tenant_event(db, TENANT_CREATED, tenant)
    owner = await invite_staff(
        db,
        tenant_id,
        email=owner_email,
        name=new.owner_name,
        role="owner",
        invite_ttl=invite_ttl,
        password=new.owner_password,
    )
    await publishing.program_changed(db, tenant_id)
    return Created(tenant_id=tenant_id, program_id=program_id, owner=owner)


async def invite_staff(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    email: str,
    name: str,
    role: Role,
    invite_ttl: int,
    password: str | None = None,
) -> Invited:
    """A new staff member and, unless a password is given, a one-time link token to set one."""
    staff_id = uuid7()
    values = {
        "id": staff_id,
        "tenant_id": tenant_id,
        "email": validation.email(email),
        "name": rules.text("name", name, 120),
        "role": role,
        "password_hash": hash_password(validation.password(password)) if password else None,
    }
    if not await staff_db.insert_staff(db, values):
        raise EmailTaken(f"{values['email']} is already a staff member here", field="email")
    row = await staff_db.staff_member(db, tenant_id, staff_id)
    assert row is not None
    await publishing.staff_created(db, tenant_id, row)
    token = None if password else await setup_token(db, row, "invite", invite_ttl)
    return Invited(staff=dict(row), token=token)


async def setup_token(db: AsyncSession, staff: RowMapping, purpose: str, ttl: int) -> str:
    token = opaque_token()
    await staff_db.insert_setup_token(
        db,
        {
            "token_hash": token_hash(token),
            "tenant_id": staff["tenant_id"],
            "staff_id": staff["id"],
            "purpose": purpose,
            "expires_at": datetime.now(UTC) + timedelta(seconds=ttl),
        },
    )
    return token


def password_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/app/password?token={token}"


async def set_status(db: AsyncSession, slug: str, status: Literal["active", "suspended"]) -> uuid.UUID:
    """Suspend or reactivate. Verifiers pick the change up from /internal/v1/tenants/suspended; the
    events tell the projections (the Program embeds the tenant and its status)."""
    tenant = await tenant_db.tenant_by_slug(db, slug)
    if tenant is None:
        raise NotFound(f"No tenant with the slug {slug!r}")
    if tenant["status"] != status:
        await tenant_db.update_tenant(db, tenant["id"], {"status": status})
        updated = await tenant_db.tenant_by_id(db, tenant["id"])
        assert updated is not None
        await publishing.tenant_event(db, TENANT_UPDATED, updated)
        await publishing.program_changed(db, tenant["id"])
    return uuid.UUID(str(tenant["id"]))
