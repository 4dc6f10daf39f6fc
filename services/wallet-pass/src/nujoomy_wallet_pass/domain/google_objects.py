"""Google Wallet loyalty class and object bodies (walletobjects v1), and the notification budget."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nujoomy_wallet_pass.domain.passjson import PassContent

# Google: update notifications are limited to 3 per pass per 24 h; beyond that they are dropped,
# so we spend the budget deliberately.
NOTIFY_BUDGET = 3
NOTIFY_WINDOW = timedelta(hours=24)


def loyalty_class(
    class_id: str, content: PassContent, logo_uri: str, *, review_status: str = "UNDER_REVIEW"
) -> dict[str, Any]:
    name = content.program_name or content.organization_name
    return {
        "id": class_id,
        "issuerName": content.organization_name[:20],
        "programName": (f"{name} TEST" if content.mode == "test" else name)[:40],
        "programLogo": {"sourceUri": {"uri": logo_uri}},
        "hexBackgroundColor": content.background_color,
        "reviewStatus": review_status,
        # Google posts a signed message here when a user saves or deletes a card of this class.
        **({"callbackOptions": {"url": content.google_callback_url}} if content.google_callback_url else {}),
    }


def loyalty_object(object_id: str, class_id: str, content: PassContent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": object_id,
        "classId": class_id,
        "state": "ACTIVE",
        "accountId": content.card_token[-8:],
        "barcode": {"type": "QR_CODE", "value": content.card_token, "alternateText": content.card_token[-8:]},
        "loyaltyPoints": {"label": content.balance_label[:9], "balance": {"int": content.balance}},
    }
    if content.member_name:
        body["accountName"] = content.member_name[:20]
    return body


def balance_patch(content: PassContent, notify: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "loyaltyPoints": {"label": content.balance_label[:9], "balance": {"int": content.balance}}
    }
    if notify:
        # Ephemeral: it applies to this PATCH only.
        body["notifyPreference"] = "NOTIFY_ON_UPDATE"
    return body


def may_notify(sent_at: list[datetime], now: datetime) -> bool:
    return sum(1 for t in sent_at if now - t < NOTIFY_WINDOW) < NOTIFY_BUDGET


def recent_notifications(sent_at: list[datetime], now: datetime) -> list[datetime]:
    return [t for t in sent_at if now - t < NOTIFY_WINDOW]
