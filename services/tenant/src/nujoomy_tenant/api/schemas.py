"""Request and response bodies of the tenant API. PATCH bodies use UNSET for "not given"."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from nujoomy_tenant.sessions import StaffOut


class LoginIn(msgspec.Struct, kw_only=True):
    tenant: str
    email: str
    password: str


class RefreshIn(msgspec.Struct, kw_only=True):
    refresh_token: str


class PasswordIn(msgspec.Struct, kw_only=True):
    token: str
    password: str


class PasswordChangeIn(msgspec.Struct, kw_only=True):
    current_password: str
    new_password: str


class TenantPatch(msgspec.Struct, kw_only=True):
    name: str | UnsetType = UNSET
    locale: str | UnsetType = UNSET
    country: str | UnsetType | None = UNSET
    timezone: str | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    contact_email: str | UnsetType | None = UNSET
    contact_phone: str | UnsetType | None = UNSET
    website: str | UnsetType | None = UNSET


class EarnRulePatch(msgspec.Struct, kw_only=True):
    points_per_unit: int | UnsetType = UNSET
    minimum_spend: str | UnsetType | None = UNSET
    max_per_transaction: int | UnsetType | None = UNSET  # null: back to the default


class ExpiryPatch(msgspec.Struct, kw_only=True):
    kind: str
    months: int = 0


class WordingPatch(msgspec.Struct, kw_only=True):
    balance_label: str | UnsetType = UNSET
    terms: str | UnsetType = UNSET
    program_name: str | UnsetType = UNSET


class ProgramPatch(msgspec.Struct, kw_only=True):
    type: str | UnsetType = UNSET
    earn_rule: EarnRulePatch | UnsetType = UNSET
    expiry: ExpiryPatch | UnsetType = UNSET
    wording: WordingPatch | UnsetType = UNSET


class BrandingPatch(msgspec.Struct, kw_only=True):
    background_color: str | UnsetType = UNSET
    foreground_color: str | UnsetType = UNSET
    label_color: str | UnsetType = UNSET


class RewardIn(msgspec.Struct, kw_only=True):
    name: str
    cost: int
    description: str = ""
    limit_per_day: int | None = None
    limit_per_week: int | None = None
    limit_per_month: int | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None
    active: bool = True


class RewardPatch(msgspec.Struct, kw_only=True):
    name: str | UnsetType = UNSET
    cost: int | UnsetType = UNSET
    description: str | UnsetType = UNSET
    limit_per_day: int | UnsetType | None = UNSET
    limit_per_week: int | UnsetType | None = UNSET
    limit_per_month: int | UnsetType | None = UNSET
    active_from: datetime | UnsetType | None = UNSET
    active_until: datetime | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class RewardOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    cost: int
    description: str
    limit_per_day: int | None
    limit_per_week: int | None
    limit_per_month: int | None
    active_from: datetime | None
    active_until: datetime | None
    active: bool


class RewardList(msgspec.Struct, kw_only=True):
    data: list[RewardOut]
    next_cursor: str | None = None


class LocationIn(msgspec.Struct, kw_only=True):
    name: str
    address: str = ""


class LocationPatch(msgspec.Struct, kw_only=True):
    name: str | UnsetType = UNSET
    address: str | UnsetType = UNSET


class LocationOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    address: str
    created_at: datetime


class LocationList(msgspec.Struct, kw_only=True):
    data: list[LocationOut]
    next_cursor: str | None


class StaffIn(msgspec.Struct, kw_only=True):
    email: str
    role: Literal["owner", "manager", "staff"]
    name: str = ""


class StaffPatch(msgspec.Struct, kw_only=True):
    name: str | UnsetType = UNSET
    role: Literal["owner", "manager", "staff"] | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET


class StaffInvited(msgspec.Struct, kw_only=True):
    staff: StaffOut
    # Shown once: the one-time link to set a password (the notification service may email it).
    password_token: str
    password_url: str


class StaffList(msgspec.Struct, kw_only=True):
    data: list[StaffOut]
    next_cursor: str | None


class SuspendedList(msgspec.Struct, kw_only=True):
    tenant_ids: list[str]


class PublicTenant(msgspec.Struct, kw_only=True):
    """What the public join page may know: nothing about staff, contacts or status internals."""

    id: str  # the public ten_ id: the join page and operators' CLI address the tenant by it
    slug: str
    name: str
    locale: str
    program_type: str
    branding: object
    wording: object


class ImageUploaded(msgspec.Struct, kw_only=True):
    sha256: str
    images: dict[str, str]
    branding_version: str
    program_version: int
