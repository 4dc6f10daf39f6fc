"""The tenant service's settings, from `NUJOOMY_*` and `NUJOOMY_TENANT_*` variables."""

from __future__ import annotations

from collections.abc import Mapping

from nujoomy_kit.settings import ServiceSettings, load_settings

SERVICE = "tenant"


class Settings(ServiceSettings, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/nujoomy_tenant"
    port: int = 8001
    # Staff sessions: a short access token (what every service checks) and a long, rotating refresh token.
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 30 * 24 * 3600
    # How long a rotated-out signing key stays in the JWKS. It must outlive the access tokens it signed.
    key_overlap_seconds: int = 3600
    invite_ttl_seconds: int = 7 * 24 * 3600
    # Login throttling (Redis), per window: attempts on one account from one client address; attempts
    # on one account from everywhere, past which only addresses that have not tried it get through
    # (so guessing never locks the right person out); attempts from one client address overall.
    login_window_seconds: int = 900
    login_max_per_account: int = 5
    login_max_per_account_all_addresses: int = 20
    login_max_per_ip: int = 50
    # Redis away: false lets sign-ins through unthrottled (logged; argon2 still slows guessing), true
    # refuses them with 503 login_unavailable. Staff who cannot sign in cannot scan.
    login_throttle_fail_closed: bool = False
    # How long a verifier may believe its list of suspended tenants ("stop working within a minute").
    suspended_cache_seconds: float = 30.0
    max_image_bytes: int = 2 * 1024 * 1024
    # argon2id cost (RFC 9106 "second recommended option" is t=3, m=64 MiB); tests lower it for speed.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    return load_settings(Settings, SERVICE, env, **overrides)
