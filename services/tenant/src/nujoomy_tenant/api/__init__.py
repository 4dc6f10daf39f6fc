"""The tenant service's HTTP routes."""

from __future__ import annotations

from typing import Any

from nujoomy_tenant.api import assets, auth, locations, program, rewards, staff, tenant


def route_handlers() -> list[Any]:
    return [
        *auth.ROUTES,
        *tenant.ROUTES,
        *program.ROUTES,
        *rewards.ROUTES,
        *locations.ROUTES,
        *staff.ROUTES,
        *assets.ROUTES,
    ]
