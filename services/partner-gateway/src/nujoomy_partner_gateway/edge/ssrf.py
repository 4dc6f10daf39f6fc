"""Refuse webhook URLs that resolve to private, loopback or link-local addresses (checked when an
endpoint is created and again before every attempt, since DNS can change in between). Every
address the name resolves to must be public; the sender then connects to the approved address."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from nujoomy_partner_gateway.domain.addresses import is_public
from nujoomy_partner_gateway.domain.errors import WebhookUrlNotAllowed


async def check_url(url: str, *, dev_mode: bool) -> str | None:
    """Raises WebhookUrlNotAllowed; returns the approved address to connect to (None in dev mode,
    where any address goes and the name is resolved when connecting)."""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as exc:  # a bad IPv6 literal or an out-of-range port
        raise WebhookUrlNotAllowed(f"The URL cannot be parsed: {exc}") from exc
    if parts.scheme not in ("http", "https") or not hostname:
        raise WebhookUrlNotAllowed("The URL must be http(s) with a host")
    if dev_mode:
        return None
    if parts.scheme != "https":
        raise WebhookUrlNotAllowed("Webhook URLs must use https")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(hostname, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:  # idna refuses some hosts before any lookup
        raise WebhookUrlNotAllowed(f"{hostname} does not resolve") from exc
    for info in infos:
        address = str(info[4][0])
        if not is_public(address):
            raise WebhookUrlNotAllowed(f"{parts.hostname} resolves to a non-public address ({address})")
    return str(infos[0][4][0])
