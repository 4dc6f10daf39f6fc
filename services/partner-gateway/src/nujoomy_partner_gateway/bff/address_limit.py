"""Per-client-address windows in Redis for the public forms (join, preferences, sign-in): each opens at
the address's first post and lasts a minute. The address is the socket peer, or what our trusted
proxies say it is (client_address.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from nujoomy_kit.settings import ServiceSettings

from nujoomy_partner_gateway.bff.client_address import request_address
from nujoomy_partner_gateway.bff.config import trusted_networks

WINDOW_SECONDS = 60


def _key(request: Request[Any, Any, Any], bucket: str, address: str) -> str:
    settings: ServiceSettings = request.app.state["settings"]
    return f"{settings.redis_prefix}web:{bucket}:{address}"


def address_of(request: Request[Any, Any, Any]) -> str:
    return request_address(request.scope, trusted_networks(request.app.state))


async def count_post(request: Request[Any, Any, Any], bucket: str, address: str) -> tuple[int, int]:
    """This address's posts in its current window, this one included, and the seconds it has left.
    Redis errors propagate: each caller decides whether to fail open or closed."""
    key = _key(request, bucket, address)
    async with request.app.state["redis"].pipeline(transaction=True) as pipe:
        count, _, ttl = await pipe.incr(key).expire(key, WINDOW_SECONDS, nx=True).ttl(key).execute()
    return int(count), max(1, int(ttl))


async def take_back(request: Request[Any, Any, Any], bucket: str, address: str) -> None:
    await request.app.state["redis"].decr(_key(request, bucket, address))
