"""Events published by the tenant service.

Tenant-level facts (the business, its program, its branding) hold for both modes. They are published
once per mode, so every downstream projection row is keyed by (tenant, mode) like every other row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

TENANT_CREATED = "tenant.tenant.created"
TENANT_UPDATED = "tenant.tenant.updated"
PROGRAM_UPDATED = "tenant.program.updated"
STAFF_CREATED = "tenant.staff.created"


class Tenant(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    slug: str
    name: str
    locale: str
    timezone: str
    currency: str
    status: Literal["active", "suspended"]
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None
    # ISO 3166-1 alpha-2: the region a customer's phone number typed the local way is read in.
    country: str | None = None


class Branding(msgspec.Struct, kw_only=True):
    background_color: str  # "#RRGGBB"
    foreground_color: str
    label_color: str
    # Variant name ("icon", "icon@2x", "icon@3x", "logo", "logo@2x", "logo@3x", "strip", "strip@2x",
    # "strip@3x", "google_logo") -> path on the tenant service's internal API to fetch the bytes.
    images: dict[str, str] = {}
    # Changes whenever colours or images change, so renderers can cache per branding version.
    version: str = ""


class EarnRule(msgspec.Struct, kw_only=True):
    # points: integer points per whole currency unit, rounded down; stamps: stamps per visit.
    points_per_unit: int
    minimum_spend: str | None = None  # decimal string in the tenant's currency
    # Points (stamps) one staff-posted earn may grant without a manager's approval; None: the
    # ledger's default for the program type.
    max_per_transaction: int | None = None


class Reward(msgspec.Struct, kw_only=True):
    reward_id: uuid.UUID
    name: str
    cost: int
    description: str = ""
    limit_per_day: int | None = None
    limit_per_week: int | None = None
    limit_per_month: int | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None
    active: bool = True


class ExpiryPolicy(msgspec.Struct, kw_only=True):
    kind: Literal["never", "months_after_earn", "end_of_nth_month"] = "never"
    months: int = 0


class Wording(msgspec.Struct, kw_only=True):
    balance_label: str = "Points"
    terms: str = ""
    program_name: str = ""


class Program(msgspec.Struct, kw_only=True):
    """The full program as of `version`; consumers replace their projection when version is newer."""

    program_id: uuid.UUID
    tenant_id: uuid.UUID
    version: int
    type: Literal["points", "stamps"]
    currency: str
    earn_rule: EarnRule
    rewards: list[Reward]
    expiry: ExpiryPolicy
    wording: Wording
    branding: Branding
    tenant: Tenant


class StaffCreated(msgspec.Struct, kw_only=True):
    staff_id: uuid.UUID
    email: str
    name: str
    role: Literal["owner", "manager", "staff"]
