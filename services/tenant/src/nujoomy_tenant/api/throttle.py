"""Login throttling in Redis: attempts counted per account and per client address in a fixed window.

An attempt is counted *before* the password is checked, in one pipeline with the check, so a burst
of parallel guesses cannot all slip through before the first failure is recorded; a success takes
its own attempt back (and clears the account). A locked account costs no argon2 time.

Redis away: the attempt is let through unthrottled and logged (`login_throttle_fail_closed` false,
the default, as the gateway's rate limits), or refused with 503 `login_unavailable` — never a 500.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis
import structlog
from litestar import Request

from nujoomy_tenant.domain.errors import LoginUnavailable, TooManyAttempts
from nujoomy_tenant.settings import Settings

log = structlog.get_logger("nujoomy.tenant.throttle")


class LoginThrottle:
    def __init__(self, redis: Any, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._prefix = f"{settings.redis_prefix}tenant:login:"

    def _keys(self, slug: str, email: str, ip: str) -> tuple[str, str]:
        return f"{self._prefix}acct:{slug.strip().lower()}:{email.strip().lower()}", f"{self._prefix}ip:{ip}"

    async def attempt(self, slug: str, email: str, ip: str) -> None:
        """Count this attempt; raise TooManyAttempts if it is over either limit."""
        account, address = self._keys(slug, email, ip)
        window = self._settings.login_window_seconds
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                # NX: the window starts at the first attempt and later ones do not extend it.
                pipe.incr(account).expire(account, window, nx=True).ttl(account)
                pipe.incr(address).expire(address, window, nx=True).ttl(address)
                acct_n, _, acct_ttl, ip_n, _, ip_ttl = await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("login_throttle_unavailable", error=repr(exc))
            if self._settings.login_throttle_fail_closed:
                raise LoginUnavailable() from exc
            return
        if acct_n > self._settings.login_max_per_account:
            raise TooManyAttempts(max(int(acct_ttl), 1))
        if ip_n > self._settings.login_max_per_ip:
            raise TooManyAttempts(max(int(ip_ttl), 1))

    async def succeeded(self, slug: str, email: str, ip: str) -> None:
        account, address = self._keys(slug, email, ip)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(account).decr(address)
                await pipe.execute()
        except (redis.RedisError, OSError) as exc:  # the window expires on its own
            log.warning("login_throttle_unavailable", error=repr(exc))


def client_address(request: Request[Any, Any, Any], trusted_proxies: list[str]) -> str:
    """The caller's address; X-Forwarded-For is believed only from a proxy we run (the gateway)."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in trusted_proxies:
        return forwarded.split(",")[0].strip() or peer
    return peer
