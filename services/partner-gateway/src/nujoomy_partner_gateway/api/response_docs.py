"""The documented 2xx answer, with an example, of each pass-through partner route (api/responses.py).

Handlers use these as `responses={status: SPEC}`; Litestar puts them in place of the bare string it
would derive from `Response[bytes]`. Only the document changes: the bytes still pass through.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from nujoomy_partner_gateway.api import responses as r

MEMBER_ID = "mbr_0353NkvBiIiyluCfzuVENA"
EARN_ID = "txn_0353NkvBiQr2B9cLwt0kdH"
REVERSAL_ID = "txn_0353NkvBiPmkFD0Ca81VgS"
REWARD_ID = "rwd_0353NkvBiMFeYGsYUWwkP0"
TENANT_ID = "ten_0353NkvBiUjjASqilw923g"
NOW = "2026-11-24T18:00:00.123456Z"

MEMBER: dict[str, Any] = {
    "id": MEMBER_ID,
    "name": "Lina",
    "email": "lina@example.com",
    "phone": None,
    "external_id": "pos-1042",
    "locale": "en",
    "consent_email": True,
    "consent_sms": False,
    "status": "active",
    "balance": 140,
    "lifetime_points": 265,
    "reserved": 0,
    "available": 140,
    "created_at": NOW,
}

EARNED: dict[str, Any] = {
    "id": EARN_ID,
    "member_id": MEMBER_ID,
    "kind": "earn",
    "points": 12,
    "balance_after": 152,
    "reference": "order-1",
    "reward_id": None,
    "reverses": None,
    "reversed_by": None,
    "program_version": 3,
    "location_id": None,
    "amount": "12.50",
    "currency": "EUR",
    "reason": None,
    "created_at": NOW,
}


def _balance(balance: int, lifetime: int) -> dict[str, int]:
    return {"balance": balance, "lifetime_points": lifetime, "reserved": 0, "available": balance}


def _written(transaction: dict[str, Any], balance: int, lifetime: int) -> dict[str, Any]:
    return {"transaction": transaction, "balance": _balance(balance, lifetime), "replayed": False}


REDEEMED = {
    **EARNED,
    "id": REVERSAL_ID,
    "kind": "redeem",
    "points": -100,
    "balance_after": 52,
    "reward_id": REWARD_ID,
    "amount": None,
    "currency": None,
}
REVERSED = {
    **EARNED,
    "id": REVERSAL_ID,
    "kind": "reverse",
    "points": -12,
    "balance_after": 140,
    "reverses": EARN_ID,
    "amount": None,
    "currency": None,
    "reason": "refund",
}
REWARD: dict[str, Any] = {
    "id": REWARD_ID,
    "name": "Free coffee",
    "cost": 100,
    "description": "Any size",
    "active": True,
    "active_from": None,
    "active_until": None,
    "limit_per_day": 1,
    "limit_per_week": None,
    "limit_per_month": None,
}
PROGRAM: dict[str, Any] = {
    "program_id": "prg_0353NkvBiJKvmQxVoxFdcY",
    "tenant_id": TENANT_ID,
    "version": 3,
    "type": "points",
    "currency": "EUR",
    "earn_rule": {"points_per_unit": 1, "minimum_spend": None},
    "rewards": [
        {
            "reward_id": REWARD_ID,
            "name": "Free coffee",
            "cost": 100,
            "description": "Any size",
            "limit_per_day": 1,
            "limit_per_week": None,
            "limit_per_month": None,
            "active_from": None,
            "active_until": None,
            "active": True,
        }
    ],
    "expiry": {"kind": "months_after_earn", "months": 12},
    "wording": {"balance_label": "Beans", "terms": "", "program_name": "Cafe Beans"},
    "branding": {
        "background_color": "#1F2937",
        "foreground_color": "#FFFFFF",
        "label_color": "#FBBF24",
        "images": {},
        "version": "3",
    },
    "tenant": {
        "tenant_id": TENANT_ID,
        "slug": "cafe",
        "name": "Cafe",
        "locale": "en",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "status": "active",
        "contact_email": None,
        "contact_phone": None,
        "website": None,
    },
}
EVENT: dict[str, Any] = {
    "id": "evt_0353NkvBiH2kwRVAEcUvBp",
    "type": "points.earned",
    "created_at": NOW,
    "data": {
        # the webhook's transaction: fewer fields than the API's, and the amount as an object
        "transaction": {
            **{k: EARNED[k] for k in ("id", "member_id", "kind", "points", "balance_after", "reference")},
            **{k: EARNED[k] for k in ("reward_id", "reverses", "created_at")},
            "amount": {"value": "12.50", "currency": "EUR"},
        }
    },
}


def spec(container: type, description: str, value: dict[str, Any]) -> ResponseSpec:
    # The example goes in as the Struct, not the dict: Litestar drops None from dicts in the
    # document (a nullable field would vanish from its example), and converting checks the example
    # against the documented schema when this module loads.
    return ResponseSpec(
        data_container=container,
        description=description,
        generate_examples=False,
        examples=[Example(summary=description, value=msgspec.convert(value, container))],
    )


PROGRAM_SPEC = spec(r.Program, "The program, ids in their public form", PROGRAM)
REWARDS_SPEC = spec(r.RewardList, "The rewards catalog", {"data": [REWARD], "next_cursor": None})
ENROLLED_SPEC = spec(
    r.EnrolledMember,
    "The new member, with its wallet links",
    {
        **MEMBER,
        "balance": 0,
        "lifetime_points": 0,
        "available": 0,
        "apple_pass_url": "https://passes.example/apple/passes/eyJ…",
        "google_save_url": "https://pay.google.com/gp/v/save/eyJ…",
        "card_url": "https://passes.example/cards/eyJ…",
    },
)
MEMBER_SPEC = spec(r.Member, "The member with its balance", MEMBER)
MEMBERS_SPEC = spec(r.MemberList, "A page of members", {"data": [MEMBER], "next_cursor": None})
EARN_SPEC = spec(r.PointsResult, "The earn transaction and the new balance", _written(EARNED, 152, 277))
REDEEM_SPEC = spec(r.PointsResult, "The redeem transaction and the new balance", _written(REDEEMED, 52, 277))
REVERSE_SPEC = spec(
    r.PointsResult, "The reversing transaction and the new balance", _written(REVERSED, 140, 265)
)
TRANSACTIONS_SPEC = spec(
    r.TransactionList, "A page of transactions, newest first", {"data": [EARNED], "next_cursor": EARN_ID}
)
EVENT_SPEC = spec(r.Event, "The event, as its webhook deliveries carry it", EVENT)
EVENTS_SPEC = spec(
    r.EventList,
    "A page of events, newest first",
    {"data": [EVENT], "next_cursor": "cur_0353NkvBiJ7n0yQlrTb6Bn"},
)
