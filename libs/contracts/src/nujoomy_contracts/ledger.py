"""Events published by the ledger service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

MEMBER_ENROLLED = "ledger.member.enrolled"
MEMBER_UPDATED = "ledger.member.updated"
MEMBER_ERASED = "ledger.member.erased"
CARD_REISSUED = "ledger.card.reissued"
CARD_RESENT = "ledger.card.resent"
TRANSACTION_POSTED = "ledger.transaction.posted"
BALANCE_CHANGED = "ledger.balance.changed"
REWARD_ISSUED = "ledger.reward.issued"
REWARD_REDEEMED = "ledger.reward.redeemed"
REWARD_VOIDED = "ledger.reward.voided"
POINTS_EXPIRING = "ledger.points.expiring"

TransactionKind = Literal["earn", "redeem", "reverse", "adjust", "expire"]


class Member(msgspec.Struct, kw_only=True):
    member_id: uuid.UUID
    program_id: uuid.UUID | None
    name: str | None
    email: str | None
    phone: str | None
    external_id: str | None
    locale: str | None = None
    consent_email: bool = False
    consent_sms: bool = False
    status: Literal["active", "erased"] = "active"


class MemberEnrolled(msgspec.Struct, kw_only=True):
    member: Member
    card_token: str  # the QR content; internal events only, never forwarded to partners


class MemberUpdated(msgspec.Struct, kw_only=True):
    member: Member


class MemberErased(msgspec.Struct, kw_only=True):
    member_id: uuid.UUID


class CardReissued(msgspec.Struct, kw_only=True):
    member_id: uuid.UUID
    card_token: str


class CardResent(msgspec.Struct, kw_only=True):
    """An existing member's card asked for again (the join page): the welcome goes to their own address."""

    member: Member


class TransactionPosted(msgspec.Struct, kw_only=True):
    transaction_id: uuid.UUID
    member_id: uuid.UUID
    kind: TransactionKind
    points: int  # signed change to the member's balance
    balance_after: int
    reference: str | None = None
    reward_id: uuid.UUID | None = None
    reverses: uuid.UUID | None = None
    program_version: int | None = None
    location_id: uuid.UUID | None = None
    amount: str | None = None  # decimal string, for earn by purchase amount
    currency: str | None = None
    reason: str | None = None
    posted_at: datetime


class BalanceChanged(msgspec.Struct, kw_only=True):
    member_id: uuid.UUID
    account_id: uuid.UUID
    balance: int
    lifetime_points: int
    reserved: int = 0
    # Per account, strictly increasing: a consumer drops an update older than what it has applied.
    sequence: int
    changed_at: datetime


class RewardIssued(msgspec.Struct, kw_only=True):
    reservation_id: uuid.UUID
    member_id: uuid.UUID
    reward_id: uuid.UUID
    points: int
    expires_at: datetime | None = None


class RewardRedeemed(msgspec.Struct, kw_only=True):
    reservation_id: uuid.UUID | None
    member_id: uuid.UUID
    reward_id: uuid.UUID
    reward_name: str
    points: int
    transaction_id: uuid.UUID


class RewardVoided(msgspec.Struct, kw_only=True):
    reservation_id: uuid.UUID
    member_id: uuid.UUID
    reward_id: uuid.UUID
    points: int
    reason: Literal["cancelled", "timed_out"]


class PointsExpiring(msgspec.Struct, kw_only=True):
    member_id: uuid.UUID
    points: int
    expires_at: datetime
