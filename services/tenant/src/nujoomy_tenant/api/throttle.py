"""Login throttling in Redis: failures counted per account and per client address in a fixed window.

Checked before the password is verified (so a locked account costs no argon2 time) and counted only
on failure; a success clears the account's counter.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from nujoomy_tenant.domain.errors import TooManyAttempts
from nujoomy_tenant.settings import Settings


class LoginThrottle:
    def __init__(self, redis: Any, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._prefix = f"{settings.redis_prefix}tenant:login:"

    def _keys(self, slug: str, email: str, ip: str) -> tuple[str, str]:
        return f"{self._prefix}acct:{slug.lower()}:{email.lower()}", f"{self._prefix}ip:{ip}"

    async def check(self, slug: str, email: str, ip: str) -> None:
        account, address = self._keys(slug, email, ip)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(account).ttl(account).get(address).ttl(address)
            acct_n, acct_ttl, ip_n, ip_ttl = await pipe.execute()
        if acct_n is not None and int(acct_n) >= self._settings.login_max_per_account:
            raise TooManyAttempts(max(int(acct_ttl), 1))
        if ip_n is not None and int(ip_n) >= self._settings.login_max_per_ip:
            raise TooManyAttempts(max(int(ip_ttl), 1))

    async def failed(self, slug: str, email: str, ip: str) -> None:
        window = self._settings.login_window_seconds
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in self._keys(slug, email, ip):
                # NX: the window starts at the first failure and is not extended by later ones.
                pipe.incr(key).expire(key, window, nx=True)
            await pipe.execute()

    async def succeeded(self, slug: str, email: str, ip: str) -> None:
        await self._redis.delete(self._keys(slug, email, ip)[0])


def client_address(request: Request[Any, Any, Any], trusted_proxies: list[str]) -> str:
    """The caller's address; X-Forwarded-For is believed only from a proxy we run (the gateway)."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in trusted_proxies:
        return forwarded.split(",")[0].strip() or peer
    return peer
