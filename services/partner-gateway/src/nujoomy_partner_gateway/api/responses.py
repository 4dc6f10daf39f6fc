"""What the pass-through partner routes answer, for the OpenAPI document only.

These handlers hand a sibling service's bytes on (`Response[bytes]`: no decode/re-encode on the hot
path), so Litestar would document their bodies as a bare string. The Structs below describe those
bodies as the ledger, tenant and wallet-pass services produce them (docs/partner-api.md); they are
never used to encode or decode. The partner fuzz (tests-e2e/security/test_fuzz.py) checks every real
2xx answer against them, so the document cannot drift from what the services send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec


def _id(prefix: str) -> msgspec.Meta:
    return msgspec.Meta(pattern=rf"^{prefix}_[0-9A-Za-z]{{22}}$")  # nujoomy_kit.ids: prefix, 22 base62


MemberId = Annotated[str, _id("mbr")]
TransactionId = Annotated[str, _id("txn")]
RewardId = Annotated[str, _id("rwd")]
LocationId = Annotated[str, _id("loc")]
EventId = Annotated[str, _id("evt")]
ProgramId = Annotated[str, _id("prg")]
TenantId = Annotated[str, _id("ten")]


class Member(msgspec.Struct, kw_only=True):
    id: MemberId
    name: str | None
    email: str | None
    phone: str | None
    external_id: str | None
    locale: str | None
    consent_email: bool
    consent_sms: bool
    status: str
    balance: int
    lifetime_points: int
    reserved: int  # held by open reward reservations
    available: int  # balance - reserved
    created_at: datetime


class EnrolledMember(Member, kw_only=True):
    # null when the wallet-pass service could not be reached (google_save_url also without Google
    # Wallet set up); GET /v1/members/{id} does not carry them
    apple_pass_url: str | None
    google_save_url: str | None
    card_url: str | None  # one short page offering both wallets: for an SMS or a printed QR code


class MemberList(msgspec.Struct, kw_only=True):
    data: list[Member]
    next_cursor: str | None


class Transaction(msgspec.Struct, kw_only=True):
    id: TransactionId
    member_id: MemberId
    kind: Literal["earn", "redeem", "reverse", "adjust", "expire"]
    points: int  # signed: negative for redeem, expire and the reversal of an earn
    balance_after: int
    reference: str | None
    reward_id: RewardId | None
    reverses: TransactionId | None
    reversed_by: TransactionId | None
    program_version: int | None
    location_id: LocationId | None
    amount: str | None  # decimal string of a purchase earn
    currency: str | None
    reason: str | None
    created_at: datetime


class TransactionList(msgspec.Struct, kw_only=True):
    data: list[Transaction]
    next_cursor: str | None


class Balance(msgspec.Struct, kw_only=True):
    balance: int
    lifetime_points: int
    reserved: int
    available: int


class PointsResult(msgspec.Struct, kw_only=True):
    transaction: Transaction
    balance: Balance
    replayed: bool  # true when the ledger already had this Idempotency-Key: nothing posted twice


class Reward(msgspec.Struct, kw_only=True):
    id: RewardId
    name: str
    cost: int
    description: str
    active: bool
    active_from: datetime | None
    active_until: datetime | None
    limit_per_day: int | None
    limit_per_week: int | None
    limit_per_month: int | None


class RewardList(msgspec.Struct, kw_only=True):
    data: list[Reward]
    next_cursor: str | None  # always null: the catalog is one page


class EarnRule(msgspec.Struct, kw_only=True):
    points_per_unit: int
    minimum_spend: str | None


class ProgramReward(msgspec.Struct, kw_only=True):
    reward_id: RewardId
    name: str
    cost: int
    description: str
    limit_per_day: int | None
    limit_per_week: int | None
    limit_per_month: int | None
    active_from: datetime | None
    active_until: datetime | None
    active: bool


class Expiry(msgspec.Struct, kw_only=True):
    kind: Literal["never", "months_after_earn", "end_of_nth_month"]
    months: int


class Wording(msgspec.Struct, kw_only=True):
    balance_label: str
    terms: str
    program_name: str


class Branding(msgspec.Struct, kw_only=True):
    background_color: str
    foreground_color: str
    label_color: str
    images: dict[str, str]
    version: str


class Business(msgspec.Struct, kw_only=True):
    tenant_id: TenantId
    slug: str
    name: str
    locale: str
    timezone: str
    currency: str
    status: Literal["active", "suspended"]
    contact_email: str | None
    contact_phone: str | None
    website: str | None


class Program(msgspec.Struct, kw_only=True):
    program_id: ProgramId
    tenant_id: TenantId
    version: int
    type: Literal["points", "stamps"]
    currency: str
    earn_rule: EarnRule
    rewards: list[ProgramReward]
    expiry: Expiry
    wording: Wording
    branding: Branding
    tenant: Business


class Event(msgspec.Struct, kw_only=True):
    """Byte for byte the body of the webhook deliveries of this event; `data` depends on `type`."""

    id: EventId
    type: str
    created_at: datetime
    data: dict[str, Any]


class EventList(msgspec.Struct, kw_only=True):
    data: list[Event]
    next_cursor: str | None
