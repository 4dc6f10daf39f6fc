"""What a channel transport is, and how it reports failure (retry later, or give up now)."""

from __future__ import annotations

from typing import Protocol

import msgspec


class DeliveryError(Exception):
    """`transient`: worth retrying (a 4xx from SMTP, a 5xx/429 or timeout from HTTP, a dropped connection)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Outgoing(msgspec.Struct, kw_only=True):
    message_id: str  # our msg_… id; providers echo it and it makes the Message-ID unique
    recipient: str
    subject: str = ""
    html: str = ""
    text: str
    unsubscribe_url: str = ""
    from_name: str = ""  # the business: the e-mail's From display name (the address is the platform's)


class Transport(Protocol):
    """One channel's way out. Returns the provider's id for the message (or the Message-ID for SMTP)."""

    async def send(self, message: Outgoing) -> str: ...

    async def close(self) -> None: ...
