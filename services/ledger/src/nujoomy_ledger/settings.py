"""The ledger service's settings, from `NUJOOMY_*` and `NUJOOMY_LEDGER_*` variables."""

from __future__ import annotations

from collections.abc import Mapping

from nujoomy_kit.settings import ServiceSettings, load_settings

SERVICE = "ledger"


class Settings(ServiceSettings, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/nujoomy_ledger"
    port: int = 8002
    # Staff may reverse their own counter mistakes for this long; older ones need a manager.
    reverse_window_minutes: int = 30
    # A reward issued at the counter holds its points this long before the worker voids it.
    reservation_ttl_minutes: int = 30
    expiring_notice_days: int = 14
    expiry_interval_seconds: float = 300.0
    reservation_sweep_seconds: float = 30.0


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    return load_settings(Settings, SERVICE, env, **overrides)
