"""SMS through an HTTP provider. `GenericJsonSms` posts JSON and signs it; a real provider is another
class with the same `send`/`close` (delivery/transport.py)."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import msgspec

from nujoomy_notification.delivery.transport import DeliveryError, Outgoing

SIGNATURE_HEADER = "X-Nujoomy-Signature"
TIMESTAMP_HEADER = "X-Nujoomy-Timestamp"


class SmsRequest(msgspec.Struct, kw_only=True):
    to: str
    sender: str
    body: str
    reference: str


class SmsAccepted(msgspec.Struct, kw_only=True):
    id: str


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """v1 = hex HMAC-SHA256 over "<timestamp>.<body>"; the timestamp lets the provider refuse replays."""
    return "v1=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class GenericJsonSms:
    def __init__(self, url: str, secret: str, sender: str, client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._secret = secret.encode()
        self._sender = sender
        self._client = client or httpx.AsyncClient(timeout=10.0)

    async def send(self, message: Outgoing) -> str:
        body = msgspec.json.encode(
            SmsRequest(
                to=message.recipient, sender=self._sender, body=message.text, reference=message.message_id
            )
        )
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: signature(self._secret, ts, body),
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS provider unreachable: {exc!r}", transient=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"SMS provider answered {response.status_code}", transient=True)
        if response.status_code >= 400:
            raise DeliveryError(
                f"SMS provider refused: {response.status_code} {response.text[:200]}", transient=False
            )
        try:
            return msgspec.json.decode(response.content, type=SmsAccepted).id
        except msgspec.DecodeError:
            # Accepted (2xx) but unreadable: retrying could send it twice, so it counts as sent.
            return ""

    async def close(self) -> None:
        await self._client.aclose()
