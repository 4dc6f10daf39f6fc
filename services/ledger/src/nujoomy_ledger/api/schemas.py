"""Request and response bodies of the ledger's HTTP API (internal and staff), as msgspec Structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from nujoomy_contracts.tenant import Reward
from nujoomy_kit.ids import encode_id

from nujoomy_ledger.db.ledger import TransactionRow
from nujoomy_ledger.db.members import MemberRow
from nujoomy_ledger.operations.posting import Balance

IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Reference = Annotated[str, msgspec.Meta(max_length=255)]
# Checked and made canonical by domain/contacts (a clear invalid_email / invalid_phone, E.164).
Email = Annotated[str, msgspec.Meta(max_length=320)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]


class MemberIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Text | None = None
    email: Email | None = None
    phone: Phone | None = None
    external_id: Text | None = None
    locale: Annotated[str, msgspec.Meta(max_length=35)] | None = None
    consent_email: bool = False
    consent_sms: bool = False


class MemberPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Text | msgspec.UnsetType | None = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    external_id: Text | msgspec.UnsetType | None = msgspec.UNSET
    locale: Annotated[str, msgspec.Meta(max_length=35)] | msgspec.UnsetType | None = msgspec.UNSET
    consent_email: bool | msgspec.UnsetType = msgspec.UNSET
    consent_sms: bool | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        return {f: v for f in self.__struct_fields__ if (v := getattr(self, f)) is not msgspec.UNSET}


class Amount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(max_length=32)]
    currency: Annotated[str, msgspec.Meta(max_length=8)]


class EarnIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    idempotency_key: IdempotencyKey
    points: int | None = None
    amount: Amount | None = None
    reference: Reference | None = None
    location_id: str | None = None


class RedeemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    idempotency_key: IdempotencyKey
    points: int | None = None
    reward_id: str | None = None
    reference: Reference | None = None


class ReverseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    idempotency_key: IdempotencyKey
    reason: Reference | None = None


class AdjustIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    points: int
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    idempotency_key: IdempotencyKey


class ReserveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reward_id: str
    idempotency_key: IdempotencyKey


class StaffEarnIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    idempotency_key: IdempotencyKey
    card_token: str | None = None
    member_id: str | None = None
    amount: Amount | None = None
    points: int | None = None
    location_id: str | None = None
    reference: Reference | None = None


class StaffRedeemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    idempotency_key: IdempotencyKey
    card_token: str | None = None
    member_id: str | None = None
    reward_id: str | None = None
    points: int | None = None
    reference: Reference | None = None


class StaffReverseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    transaction_id: str
    idempotency_key: IdempotencyKey
    reason: Reference | None = None


class MemberOut(msgspec.Struct, kw_only=True):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    external_id: str | None
    locale: str | None
    consent_email: bool
    consent_sms: bool
    status: str
    card_token: str | None
    balance: int
    lifetime_points: int
    reserved: int
    available: int
    created_at: datetime

    @classmethod
    def of(cls, m: MemberRow) -> MemberOut:
        return cls(
            id=encode_id("mbr", m.id),
            name=m.name,
            email=m.email,
            phone=m.phone,
            external_id=m.external_id,
            locale=m.locale,
            consent_email=m.consent_email,
            consent_sms=m.consent_sms,
            status=m.status,
            card_token=m.card_token,
            balance=m.balance,
            lifetime_points=m.lifetime,
            reserved=m.reserved,
            available=m.balance - m.reserved,
            created_at=m.created_at,
        )


class TransactionOut(msgspec.Struct, kw_only=True):
    id: str
    member_id: str
    kind: str
    points: int
    balance_after: int
    reference: str | None
    reward_id: str | None
    reverses: str | None
    reversed_by: str | None
    program_version: int | None
    location_id: str | None
    amount: str | None
    currency: str | None
    reason: str | None
    created_at: datetime
    approved_by: str | None = None  # the manager (stf_…) who approved an earn over the maximum

    @classmethod
    def of(cls, t: TransactionRow) -> TransactionOut:
        return cls(
            id=encode_id("txn", t.id),
            member_id=encode_id("mbr", t.member_id),
            kind=t.kind,
            points=t.points,
            balance_after=t.balance_after,
            reference=t.reference,
            reward_id=encode_id("rwd", t.reward_id) if t.reward_id else None,
            reverses=encode_id("txn", t.reverses) if t.reverses else None,
            reversed_by=encode_id("txn", t.reversed_by) if t.reversed_by else None,
            program_version=t.program_version,
            location_id=encode_id("loc", t.location_id) if t.location_id else None,
            amount=t.amount,
            currency=t.currency,
            reason=t.reason,
            created_at=t.created_at,
            approved_by=encode_id("stf", t.approved_by) if t.approved_by else None,
        )


class WriteOut(msgspec.Struct, kw_only=True):
    transaction: TransactionOut
    balance: Balance
    replayed: bool = False


class RewardOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    cost: int
    description: str
    active: bool
    active_from: datetime | None
    active_until: datetime | None
    limit_per_day: int | None
    limit_per_week: int | None
    limit_per_month: int | None

    @classmethod
    def of(cls, r: Reward) -> RewardOut:
        return cls(
            id=encode_id("rwd", r.reward_id),
            name=r.name,
            cost=r.cost,
            description=r.description,
            active=r.active,
            active_from=r.active_from,
            active_until=r.active_until,
            limit_per_day=r.limit_per_day,
            limit_per_week=r.limit_per_week,
            limit_per_month=r.limit_per_month,
        )


class ReservationOut(msgspec.Struct, kw_only=True):
    id: str
    member_id: str
    reward_id: str
    points: int
    status: str
    expires_at: datetime
    balance: Balance | None = None


class CardSummary(msgspec.Struct, kw_only=True):
    member_id: str
    card_token: str  # the full token, whether the QR or the printed code was given
    name: str | None
    balance: int
    available: int
    lifetime_points: int
    balance_label: str
    affordable_rewards: list[RewardOut]
    program_type: str = "points"
    currency: str = ""
    max_per_transaction: int = 0  # a staff earn above this needs a manager's approval


class Page(msgspec.Struct, kw_only=True):
    data: list[Any]
    next_cursor: str | None


class MemberPageOut(msgspec.Struct, kw_only=True):
    """A page of the member list: `next_cursor` goes on (`cursor=`), `prev_cursor` back (`before=`)."""

    data: list[MemberOut]
    next_cursor: str | None
    prev_cursor: str | None
