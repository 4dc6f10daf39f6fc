"""Dates as the business reads them: in the tenant's time zone, month names from the catalog."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_timezone, get_timezone_location


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_place(name: str | None, lang: str, t: Callable[..., str]) -> str:
    """The time zone as people say it, in their language: "Dubai" / "دبي" (CLDR's exemplar city, from
    Babel), universal time in words; an id CLDR has no city for (Etc/GMT+4) stays as it is."""
    local = zone(name)
    if local.key in ("UTC", "Etc/UTC", "Etc/GMT"):
        return t("zone_utc")
    try:
        return str(get_timezone_location(get_timezone(local.key), locale=lang, return_city=True))
    except (LookupError, ValueError):
        return local.key


def day_label(day: date, t: Callable[..., str]) -> str:
    return f"{day.day} {t(f'month_{day.month}')}"


def formatter(tz: str | None, t: Callable[..., str]) -> Callable[[object], str]:
    """`when(value)`: an ISO timestamp (as the services send them) → "7 Dec 2026, 14:05" local."""
    local = zone(tz)

    def when(value: object) -> str:
        if value in (None, ""):
            return ""
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(local)
        return f"{day_label(moment.date(), t)} {moment.year}, {moment:%H:%M}"

    return when
