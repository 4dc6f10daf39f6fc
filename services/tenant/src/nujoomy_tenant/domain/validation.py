"""Field rules for tenant configuration. Pure: raise domain errors, touch nothing."""

from __future__ import annotations

import re
import zoneinfo

from nujoomy_tenant.domain.currencies import ISO_4217
from nujoomy_tenant.domain.errors import (
    InvalidColor,
    InvalidCountry,
    InvalidEmail,
    InvalidLocale,
    InvalidSlug,
    InvalidTimezone,
    UnknownCurrency,
    WeakPassword,
)

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
# URL-safe and readable in /join/{slug}: lowercase letters, digits, inner hyphens; 3 to 40 characters.
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]")
# BCP 47 as wallets use it: language, optional region ("fr", "fr-FR", "pt-BR").
_LOCALE = re.compile(r"[a-z]{2,3}(?:-[A-Z]{2})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Slugs that would shadow routes on the public web (/join/app, /join/api ...).
_RESERVED = frozenset({"app", "api", "admin", "join", "assets", "static", "health", "www", "internal"})
MIN_PASSWORD = 10


def color(field: str, value: str) -> str:
    if not _COLOR.fullmatch(value):
        raise InvalidColor(field, f"{field} must be #RRGGBB, got {value!r}")
    return value.upper()


def currency(value: str) -> str:
    code = value.upper()
    if code not in ISO_4217:
        raise UnknownCurrency("currency", f"{value!r} is not an ISO 4217 currency code")
    return code


def slug(value: str) -> str:
    if not _SLUG.fullmatch(value) or "--" in value or value in _RESERVED:
        raise InvalidSlug(
            "slug", "Slugs are 3-40 lowercase letters, digits and single inner hyphens, not reserved words"
        )
    return value


_COUNTRY = re.compile(r"[A-Z]{2}")


def country(value: str) -> str:
    code = value.strip().upper()
    if not _COUNTRY.fullmatch(code):
        raise InvalidCountry("country", f"{value!r} is not a two-letter country code like 'AE' or 'FR'")
    return code


def country_of_locale(value: str) -> str | None:
    """The region of a locale ("fr-FR" -> "FR"), the country a new tenant starts with."""
    _, _, region = value.partition("-")
    return region if _COUNTRY.fullmatch(region) else None


def locale(value: str) -> str:
    if not _LOCALE.fullmatch(value):
        raise InvalidLocale("locale", f"{value!r} is not a locale like 'en' or 'fr-FR'")
    return value


def timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTimezone("timezone", f"{value!r} is not an IANA time zone") from exc
    return value


def email(value: str, field: str = "email") -> str:
    normalised = value.strip().lower()
    if not _EMAIL.fullmatch(normalised) or len(normalised) > 254:
        raise InvalidEmail(field, f"{value!r} is not an email address")
    return normalised


def password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise WeakPassword("password", f"Passwords have at least {MIN_PASSWORD} characters")
    if len(value) > 1024:
        raise WeakPassword("password", "Passwords have at most 1024 characters")
    return value
