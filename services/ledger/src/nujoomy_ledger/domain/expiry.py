"""When earned points expire: stamped on each earn lot at earn time from the program's policy.

`months_after_earn`: the same day-of-month n months later (clamped to the month's last day).
`end_of_nth_month`: the end of the month n months after the earn month (n=0: end of this month),
in the tenant's timezone, because "end of month" is a local-calendar promise to the customer.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def expires_at(
    kind: Literal["never", "months_after_earn", "end_of_nth_month"],
    months: int,
    earned_at: datetime,
    timezone: str = "UTC",
) -> datetime | None:
    if kind == "never":
        return None
    local = earned_at.astimezone(ZoneInfo(timezone))
    year, month = _add_months(local.year, local.month, months)
    last_day = calendar.monthrange(year, month)[1]
    if kind == "months_after_earn":
        return local.replace(year=year, month=month, day=min(local.day, last_day))
    start_of_next = datetime(year, month, last_day, tzinfo=local.tzinfo) + timedelta(days=1)
    return start_of_next - timedelta(microseconds=1)


def notice_due(expires: datetime, now: datetime, days_before: int) -> bool:
    """A points-expiring notice goes out once, in the window of `days_before` days before expiry."""
    return now < expires <= now + timedelta(days=days_before)
