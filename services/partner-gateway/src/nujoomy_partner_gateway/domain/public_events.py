"""The public face of platform events: which internal events partners see, under which names, and
what their payload holds. Internal-only fields (a card's QR token) never appear here."""

from __future__ import annotations

import uuid
from typing import Any

from nujoomy_contracts import ledger, wallet
from nujoomy_kit.ids import encode_id

# The internal routing keys the gateway listens to.
SOURCE_TYPES: tuple[str, ...] = (
    ledger.MEMBER_ENROLLED,
    ledger.TRANSACTION_POSTED,
    ledger.REWARD_REDEEMED,
    wallet.PASS_INSTALLED,
    wallet.PASS_REMOVED,
)

_TRANSACTION_TYPES = {
    "earn": "points.earned",
    "redeem": "points.redeemed",
    "reverse": "transaction.reversed",
    "adjust": "points.adjusted",
    "expire": "points.expired",
}

PUBLIC_TYPES: tuple[str, ...] = (
    "member.enrolled",
    *_TRANSACTION_TYPES.values(),
    "reward.redeemed",
    "pass.installed",
    "pass.removed",
    "test.ping",
)


def _id(prefix: str, value: uuid.UUID | None) -> str | None:
    return encode_id(prefix, value) if value is not None else None


def public_event(source_type: str, data: Any) -> tuple[str, dict[str, Any]] | None:
    """(public type, public payload) for an internal event, or None for one partners do not see."""
    if isinstance(data, ledger.MemberEnrolled):
        m = data.member
        return "member.enrolled", {
            "member": {
                "id": encode_id("mbr", m.member_id),
                "name": m.name,
                "email": m.email,
                "phone": m.phone,
                "external_id": m.external_id,
                "locale": m.locale,
            }
        }
    if isinstance(data, ledger.TransactionPosted):
        return _TRANSACTION_TYPES[data.kind], {
            "transaction": {
                "id": encode_id("txn", data.transaction_id),
                "member_id": encode_id("mbr", data.member_id),
                "kind": data.kind,
                "points": data.points,
                "balance_after": data.balance_after,
                "reference": data.reference,
                "reward_id": _id("rwd", data.reward_id),
                "reverses": _id("txn", data.reverses),
                "amount": {"value": data.amount, "currency": data.currency} if data.amount else None,
                "created_at": data.posted_at.isoformat(),
            }
        }
    if isinstance(data, ledger.RewardRedeemed):
        return "reward.redeemed", {
            "member_id": encode_id("mbr", data.member_id),
            "reward": {"id": encode_id("rwd", data.reward_id), "name": data.reward_name},
            "points": data.points,
            "transaction_id": encode_id("txn", data.transaction_id),
        }
    if isinstance(data, wallet.PassInstalled | wallet.PassRemoved):
        verb = "installed" if isinstance(data, wallet.PassInstalled) else "removed"
        return f"pass.{verb}", {
            "pass": {
                "id": encode_id("pas", data.pass_id),
                "member_id": encode_id("mbr", data.member_id),
                "wallet": data.wallet,
            }
        }
    return None


def subscribed(event_types: list[str], public_type: str) -> bool:
    return "*" in event_types or public_type in event_types
