"""The partner-gateway service's settings, from `NUJOOMY_*` and `NUJOOMY_PARTNER_GATEWAY_*` variables."""

from __future__ import annotations

from collections.abc import Mapping

from nujoomy_kit.settings import ServiceSettings, load_settings

SERVICE = "partner-gateway"


class Settings(ServiceSettings, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/nujoomy_partner_gateway"
    port: int = 8000


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    return load_settings(Settings, SERVICE, env, **overrides)
