"""Dates as the business reads them: in the tenant's time zone, month names from the catalog."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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
