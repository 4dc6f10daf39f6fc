"""A member's contact details in one canonical form, so one person is one member per tenant and mode.

E-mail: trimmed and lower-cased (the whole address: providers treat the local part case-blind, and a
member typing "Lina@Example.com" at the counter is the same person as "lina@example.com").
Phone: E.164 ("+33612345678"), read with the tenant's country as the default region, so a number
typed the local way ("06 12 34 56 78") is the same member, and the SMS provider gets a number it can
dial. The tenant's country comes from what the tenant service publishes with its program: its
`country`, else the region of its locale ("fr-FR"), else the country of its own contact phone;
without any, only numbers written with their country code (+…) are accepted."""

from __future__ import annotations

import re

import phonenumbers

from nujoomy_ledger.domain.errors import InvalidEmail, InvalidPhone

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_REGION = re.compile(r"[A-Za-z]{2}")


def normal_email(raw: str | None) -> str | None:
    if raw is None:
        return None
    email = raw.strip().lower()
    if not email:
        return None
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidEmail("This is not an e-mail address", field="email")
    return email


def default_region(country: str | None, locale: str | None, contact_phone: str | None) -> str | None:
    """The two-letter region a local number is read in, from the tenant's published facts."""
    if country and _REGION.fullmatch(country):
        return country.upper()
    for part in (locale or "").replace("_", "-").split("-")[1:]:
        if _REGION.fullmatch(part):
            return part.upper()
    if contact_phone:
        try:
            parsed = phonenumbers.parse(contact_phone, None)
        except phonenumbers.NumberParseException:
            return None
        region = phonenumbers.region_code_for_number(parsed)
        return region if region and region != "ZZ" else None
    return None


def normal_phone(raw: str | None, region: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if len(text) > 40:
        raise InvalidPhone("This phone number is too long", field="phone")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_hint(region), field="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(_hint(region), field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _hint(region: str | None) -> str:
    if region is None:
        return "This is not a phone number: write it with its country code, like +971 50 123 4567"
    return f"This is not a phone number in {region}: check it, or write it with its country code (+…)"
