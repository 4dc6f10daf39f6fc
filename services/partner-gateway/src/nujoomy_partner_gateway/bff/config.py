"""The web app's own settings (`NUJOOMY_WEB_*`), read once per app and kept in its state.

The gateway's Settings belong to the partner API; the BFF needs only a secret for its signed tokens
(CSRF, join form) and the cookie policy, so it keeps them apart instead of widening that struct.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import msgspec
from nujoomy_kit.settings import ServiceSettings, load_settings, read_pem

from nujoomy_partner_gateway.bff.client_address import Network, parse_networks

COOKIE_ACCESS = "nj_access"
COOKIE_REFRESH = "nj_refresh"
COOKIE_CSRF = "nj_csrf"
COOKIE_MODE = "nj_mode"
COOKIE_LANG = "nj_lang"
COOKIE_LOGIN = "nj_login"  # the nonce the sign-in form's CSRF token is bound to (before any session)
COOKIE_FLASH = "nj_flash"


class WebSettings(msgspec.Struct, kw_only=True):
    # Empty: derived from the internal signing key, so every replica agrees without extra config.
    secret: str = ""
    secure_cookies: bool = True
    http_timeout: float = 5.0
    join_rate_per_minute: int = 10
    # Messages the join page may cause to one member's address (welcome + card re-sends) per day:
    # the page is public, so without a cap it would mail-bomb or SMS-pump at the business's cost.
    join_sends_per_address_per_day: int = 3
    # Sign-in posts per client address and minute, before the tenant service's own per-account and
    # per-address limits; a success takes its attempt back, so a café's staff behind one address
    # signing in at opening are not refused.
    login_rate_per_minute: int = 20
    # A join form older than this is refused (bots replay harvested forms).
    join_form_max_age: int = 2 * 3600
    # Our own reverse proxies / load balancers (CIDRs). Only a request whose socket peer is in one of
    # these has its X-Forwarded-For believed, and then only the hops these proxies appended.
    trusted_proxies: list[str] = []
    # How long the preferences link on the back of a wallet pass stays valid. Every pass update
    # (an earn, a re-sync) carries a freshly signed link, so only a long-idle card meets the limit.
    preferences_link_max_age: int = 180 * 86400


def web_settings(state: Any) -> WebSettings:
    cached = state.get("web_settings")
    if isinstance(cached, WebSettings):
        return cached
    service: ServiceSettings = state["settings"]
    loaded = load_settings(WebSettings, "web")
    if not loaded.secret:
        seed = read_pem(service.internal_private_key) or secrets.token_hex(32)
        loaded = msgspec.structs.replace(
            loaded, secret=hashlib.sha256(b"nujoomy-web:" + seed.encode()).hexdigest()
        )
    parse_networks(loaded.trusted_proxies)  # a malformed CIDR fails at the first request, loudly
    state["web_settings"] = loaded
    return loaded


def trusted_networks(state: Any) -> tuple[Network, ...]:
    cached = state.get("web_trusted_proxies")
    if isinstance(cached, tuple):
        return cached
    networks = parse_networks(web_settings(state).trusted_proxies)
    state["web_trusted_proxies"] = networks
    return networks
