"""Which payload Struct goes with which event type and version."""

from __future__ import annotations

from typing import Any

import msgspec

from nujoomy_contracts import ledger, partner, tenant, wallet

EVENT_TYPES: dict[tuple[str, int], type[msgspec.Struct]] = {
    (tenant.TENANT_CREATED, 1): tenant.Tenant,
    (tenant.TENANT_UPDATED, 1): tenant.Tenant,
    (tenant.PROGRAM_UPDATED, 1): tenant.Program,
    (tenant.STAFF_CREATED, 1): tenant.StaffCreated,
    (ledger.MEMBER_ENROLLED, 1): ledger.MemberEnrolled,
    (ledger.MEMBER_UPDATED, 1): ledger.MemberUpdated,
    (ledger.MEMBER_ERASED, 1): ledger.MemberErased,
    (ledger.CARD_REISSUED, 1): ledger.CardReissued,
    (ledger.CARD_RESENT, 1): ledger.CardResent,
    (ledger.TRANSACTION_POSTED, 1): ledger.TransactionPosted,
    (ledger.BALANCE_CHANGED, 1): ledger.BalanceChanged,
    (ledger.REWARD_ISSUED, 1): ledger.RewardIssued,
    (ledger.REWARD_REDEEMED, 1): ledger.RewardRedeemed,
    (ledger.REWARD_VOIDED, 1): ledger.RewardVoided,
    (ledger.POINTS_EXPIRING, 1): ledger.PointsExpiring,
    (wallet.PASS_INSTALLED, 1): wallet.PassInstalled,
    (wallet.PASS_REMOVED, 1): wallet.PassRemoved,
    (partner.WEBHOOK_ENDPOINT_DISABLED, 1): partner.WebhookEndpointDisabled,
}

_decoders: dict[tuple[str, int], msgspec.json.Decoder[Any]] = {
    key: msgspec.json.Decoder(cls) for key, cls in EVENT_TYPES.items()
}


class UnknownEvent(LookupError):
    """No payload type is registered for this (type, version)."""


def data_type(type_: str, version: int = 1) -> type[msgspec.Struct]:
    try:
        return EVENT_TYPES[(type_, version)]
    except KeyError as exc:
        raise UnknownEvent(f"{type_} v{version}") from exc


def decode_data(type_: str, version: int, raw: bytes | msgspec.Raw) -> Any:
    decoder = _decoders.get((type_, version))
    if decoder is None:
        raise UnknownEvent(f"{type_} v{version}")
    return decoder.decode(raw)
