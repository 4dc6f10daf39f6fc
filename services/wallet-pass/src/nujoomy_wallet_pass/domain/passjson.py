"""A member's store-card pass.json, and the rules Apple's Wallet holds it to (PassKit Bundle docs)."""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

Mode = Literal["live", "test"]
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
_RGB = re.compile(r"^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$")
REQUIRED_KEYS = (
    "formatVersion",
    "passTypeIdentifier",
    "serialNumber",
    "teamIdentifier",
    "organizationName",
    "description",
)
MIN_AUTH_TOKEN = 16


class PassContent(msgspec.Struct, kw_only=True):
    """Everything one member's pass shows, read from the projections when the pass is built."""

    serial: str
    authentication_token: str
    card_token: str
    balance: int
    mode: Mode
    pass_type_id: str
    team_id: str
    organization_name: str
    web_service_url: str
    program_name: str = ""
    balance_label: str = "Points"
    member_name: str | None = None
    background_color: str = "#1F2937"
    foreground_color: str = "#FFFFFF"
    label_color: str = "#D1D5DB"
    terms: str = ""
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None
    consent_url: str | None = None
    # Google: where Google posts save/delete callbacks for the loyalty class ({PUBLIC_URL}/google/callbacks).
    google_callback_url: str = ""
    # A card replaced by a reissue: Wallet shows the pass as void; it carries no QR code.
    voided: bool = False


def rgb(color: str) -> str:
    """Apple wants CSS rgb() triples; the branding holds #RRGGBB."""
    match = _HEX.match(color.strip())
    if match is None:
        return "rgb(0, 0, 0)"
    value = int(match.group(1), 16)
    return f"rgb({value >> 16}, {(value >> 8) & 0xFF}, {value & 0xFF})"


def store_card(content: PassContent) -> dict[str, Any]:
    test = content.mode == "test"
    name = content.program_name or content.organization_name
    header = [{"key": "mode", "label": "", "value": "TEST"}] if test else []
    secondary: list[dict[str, Any]] = []
    if content.member_name:
        secondary.append({"key": "member", "label": "Member", "value": content.member_name})
    back: list[dict[str, Any]] = [
        {"key": "program", "label": "Program", "value": name},
        {
            "key": "card",
            "label": "Card number",
            "value": "Replaced by a new card" if content.voided else content.card_token,
        },
    ]
    if content.terms:
        back.append({"key": "terms", "label": "Terms and conditions", "value": content.terms})
    if content.contact_email:
        back.append({"key": "email", "label": "Contact", "value": content.contact_email})
    if content.contact_phone:
        back.append({"key": "phone", "label": "Phone", "value": content.contact_phone})
    if content.website:
        back.append({"key": "website", "label": "Website", "value": content.website})
    if content.consent_url:
        back.append(
            {
                "key": "consent",
                "label": "Messages and consent",
                "value": "Manage what we may send you",
                "attributedValue": f"<a href='{content.consent_url}'>Manage what we may send you</a>",
            }
        )
    if test:
        back.append({"key": "test_notice", "label": "TEST", "value": "A test-mode card; not a real balance."})
    barcodes = [
        {
            "format": "PKBarcodeFormatQR",
            "message": content.card_token,
            "messageEncoding": "iso-8859-1",
            "altText": content.card_token[-8:],
        }
    ]
    return {
        **({"voided": True} if content.voided else {}),
        "formatVersion": 1,
        "passTypeIdentifier": content.pass_type_id,
        "serialNumber": content.serial,
        "teamIdentifier": content.team_id,
        "organizationName": content.organization_name,
        "description": f"{name} loyalty card" + (" (TEST)" if test else ""),
        "logoText": f"{name} TEST" if test else name,
        "webServiceURL": content.web_service_url,
        "authenticationToken": content.authentication_token,
        "backgroundColor": rgb(content.background_color),
        "foregroundColor": rgb(content.foreground_color),
        "labelColor": rgb(content.label_color),
        # A voided pass keeps no code to scan (it may be on a lost phone).
        "barcodes": [] if content.voided else barcodes,
        "storeCard": {
            "headerFields": header,
            "primaryFields": [
                {
                    "key": "balance",
                    "label": content.balance_label,
                    "value": content.balance,
                    # Without a changeMessage Wallet updates silently; %@ is the new value.
                    "changeMessage": f"Your balance is now %@ {content.balance_label.lower()}",
                }
            ],
            "secondaryFields": secondary,
            "auxiliaryFields": [],
            "backFields": back,
        },
    }


def violations(pass_json: dict[str, Any]) -> list[str]:
    """What Wallet would refuse or silently mishandle in this pass.json (empty when it is fine)."""
    problems = [f"missing {key}" for key in REQUIRED_KEYS if key not in pass_json]
    if pass_json.get("formatVersion") != 1:
        problems.append("formatVersion must be 1")
    token = pass_json.get("authenticationToken")
    if ("webServiceURL" in pass_json) != (token is not None):
        problems.append("webServiceURL and authenticationToken go together")
    if token is not None and len(str(token)) < MIN_AUTH_TOKEN:
        problems.append("authenticationToken is shorter than 16 characters")
    for key in ("backgroundColor", "foregroundColor", "labelColor"):
        value = pass_json.get(key)
        if value is not None and not _valid_rgb(str(value)):
            problems.append(f"{key} is not rgb(r, g, b)")
    style = pass_json.get("storeCard")
    if not isinstance(style, dict):
        return [*problems, "not a storeCard"]
    seen: set[str] = set()
    for group in ("headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields"):
        for field in style.get(group, []):
            if "key" not in field or "value" not in field:
                problems.append(f"{group} field without key or value")
                continue
            if field["key"] in seen:
                problems.append(f"field key {field['key']} is not unique")
            seen.add(field["key"])
            message = field.get("changeMessage")
            if message is not None and "%@" not in message:
                problems.append(f"changeMessage of {field['key']} lacks %@")
    if len(style.get("secondaryFields", [])) + len(style.get("auxiliaryFields", [])) > 4:
        problems.append("more than four secondary and auxiliary fields")
    if not pass_json.get("barcodes"):
        problems.append("no barcodes")
    return problems


def _valid_rgb(value: str) -> bool:
    match = _RGB.match(value)
    return match is not None and all(0 <= int(part) <= 255 for part in match.groups())
