"""The partner-gateway service's settings, from `NUJOOMY_*` and `NUJOOMY_PARTNER_GATEWAY_*` variables."""

from __future__ import annotations

from collections.abc import Mapping

from nujoomy_kit.settings import ServiceSettings, load_settings

from nujoomy_partner_gateway.domain.deliveries import DEFAULT_SCHEDULE

SERVICE = "partner-gateway"


class Settings(ServiceSettings, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/nujoomy_partner_gateway"
    port: int = 8000
    # Edge
    rate_limit_fail_closed: bool = False  # default: a Redis outage lets traffic through (logged, counted)
    max_in_flight: int = 64  # per key and replica, unless the key sets its own
    key_cache_ttl: float = 60.0
    last_used_flush_seconds: float = 5.0
    key_roll_grace_seconds: int = 24 * 3600
    max_keys_per_tenant: int = 20  # working API keys per tenant and mode, unless the tenant's limits say
    downstream_timeout: float = 10.0
    read_pool_size: int = 8  # raw asyncpg connections for the partner API's hot reads (GET /v1/events)
    # Webhooks
    webhook_schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    webhook_timeout: float = 15.0
    webhook_poll_seconds: float = 0.5
    webhook_fan_out_batch: int = 200  # events fanned out per consumer transaction (1: one at a time)
    webhook_batch: int = 100  # deliveries claimed per round trip, per lane
    webhook_lanes: int = 4
    webhook_lease_seconds: float = 60.0
    webhook_disable_after_seconds: float = 5 * 24 * 3600
    webhook_secret_grace_seconds: int = 24 * 3600
    # The public half of wallet-pass's member-link key (nujoomy_kit.member_links: the preferences
    # link on the back of a pass): PEM text or paths, several during a rotation. Its own key pair,
    # never the internal-token keys.
    member_link_public_key: str = ""

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "member_link_public_key": self.member_link_public_key}


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    return load_settings(Settings, SERVICE, env, **overrides)
