"""Login throttling in Redis, fixed windows that open at the first attempt:

- per client address and account: `login_max_per_account` attempts, then this address is done with
  this account for the window (an address guessing one owner's password);
- per account from every address: past `login_max_per_account_all_addresses`, only an address that
  has not tried this account in the window is let through (a password spray from many addresses) —
  so a guesser can never lock the owner out: the owner's own address has not failed and still gets in;
- per client address: `login_max_per_ip` attempts over every account (one address trying many).

An attempt is counted *before* the password is checked, in one pipeline with the check, so a burst
of parallel guesses cannot all slip through before the first failure is recorded; a success takes
its own attempts back (and forgets the address's failures on the account). A refused attempt costs
no argon2 time.

The client address is the socket peer, or — when the caller is one of our own services, proven by an
internal token with the `auth:forward` scope — the address it names in `Nujoomy-Client-Address` (the
gateway forwards the browser's). Anyone else naming an address is ignored: otherwise a script could
pick a fresh address per guess, and every sign-in through the gateway would count as the gateway's.

Redis away: the attempt is let through unthrottled and logged (`login_throttle_fail_closed` false,
the default, as the gateway's rate limits), or refused with 503 `login_unavailable` — never a 500.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import redis.asyncio as redis
import structlog
from litestar import Request
from nujoomy_kit.auth import authenticate
from nujoomy_kit.problems import InvalidInput

from nujoomy_tenant.domain.errors import LoginUnavailable, TooManyAttempts
from nujoomy_tenant.settings import Settings

log = structlog.get_logger("nujoomy.tenant.throttle")

FORWARD_SCOPE = "auth:forward"
CLIENT_ADDRESS_HEADER = "nujoomy-client-address"


class LoginThrottle:
    def __init__(self, redis: Any, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._prefix = f"{settings.redis_prefix}tenant:login:"

    def _keys(self, slug: str, email: str, ip: str) -> tuple[str, str, str]:
        account = f"{self._prefix}acct:{slug.strip().lower()}:{email.strip().lower()}"
        return account, f"{account}:ip:{ip}", f"{self._prefix}ip:{ip}"

    async def attempt(self, slug: str, email: str, ip: str) -> None:
        """Count this attempt; raise TooManyAttempts if this address may not try this account now."""
        account, pair, address = self._keys(slug, email, ip)
        window = self._settings.login_window_seconds
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                # NX: the window starts at the first attempt and later ones do not extend it.
                pipe.incr(account).expire(account, window, nx=True).ttl(account)
                pipe.incr(pair).expire(pair, window, nx=True).ttl(pair)
                pipe.incr(address).expire(address, window, nx=True).ttl(address)
                acct_n, _, acct_ttl, pair_n, _, pair_ttl, ip_n, _, ip_ttl = await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("login_throttle_unavailable", error=repr(exc))
            if self._settings.login_throttle_fail_closed:
                raise LoginUnavailable() from exc
            return
        if pair_n > self._settings.login_max_per_account:
            raise TooManyAttempts(max(int(pair_ttl), 1))
        # pair_n > 1: this address already tried this account in the window and did not get in.
        if acct_n > self._settings.login_max_per_account_all_addresses and pair_n > 1:
            raise TooManyAttempts(max(int(min(acct_ttl, pair_ttl)), 1))
        if ip_n > self._settings.login_max_per_ip:
            raise TooManyAttempts(max(int(ip_ttl), 1))

    async def succeeded(self, slug: str, email: str, ip: str) -> None:
        account, pair, address = self._keys(slug, email, ip)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.decr(account).delete(pair).decr(address)
                await pipe.execute()
        except (redis.RedisError, OSError) as exc:  # the window expires on its own
            log.warning("login_throttle_unavailable", error=repr(exc))


async def client_address(request: Request[Any, Any, Any]) -> str:
    """The address this sign-in counts against: the peer, or what a platform service says it is."""
    peer = request.client.host if request.client else "unknown"
    named = request.headers.get(CLIENT_ADDRESS_HEADER)
    if not named or not request.headers.get("authorization"):
        return peer
    principal = await authenticate(request)  # a bad token is a 401, not a quiet fallback
    if principal.kind != "internal" or FORWARD_SCOPE not in principal.scopes:
        return peer
    try:
        return str(ipaddress.ip_address(named.strip()))
    except ValueError as exc:
        raise InvalidInput("Nujoomy-Client-Address must be an IP address") from exc
