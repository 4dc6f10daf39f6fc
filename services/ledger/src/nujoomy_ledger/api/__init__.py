"""The ledger service's HTTP routes."""

from __future__ import annotations

from typing import Any

from nujoomy_ledger.api.members import MembersController
from nujoomy_ledger.api.points import PointsController
from nujoomy_ledger.api.reports import ReportsController
from nujoomy_ledger.api.staff import StaffController


def route_handlers() -> list[Any]:
    return [MembersController, PointsController, ReportsController, StaffController]
