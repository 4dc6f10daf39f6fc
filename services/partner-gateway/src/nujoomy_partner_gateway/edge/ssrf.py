"""Refuse webhook URLs that resolve to private, loopback or link-local addresses (checked when an
endpoint is created and again before every attempt, since DNS can change in between)."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from nujoomy_partner_gateway.domain.addresses import is_public
from nujoomy_partner_gateway.domain.errors import WebhookUrlNotAllowed


async def check_url(url: str, *, dev_mode: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlNotAllowed("The URL must be http(s) with a host")
    if dev_mode:
        return
    if parts.scheme != "https":
        raise WebhookUrlNotAllowed("Webhook URLs must use https")
    port = parts.port or 443
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebhookUrlNotAllowed(f"{parts.hostname} does not resolve") from exc
    for info in infos:
        address = str(info[4][0])
        if not is_public(address):
            raise WebhookUrlNotAllowed(f"{parts.hostname} resolves to a non-public address ({address})")
