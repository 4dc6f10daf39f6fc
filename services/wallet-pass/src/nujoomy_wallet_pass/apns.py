"""APNs for pass updates: HTTP/2 with the Pass Type ID certificate as TLS client certificate,
`apns-topic` = pass type id, an empty JSON body. One long-lived client (one connection, many
concurrent streams) per certificate and endpoint: Apple treats rapid reconnects as abuse."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import structlog

from nujoomy_wallet_pass.credentials import PassCredentials
from nujoomy_wallet_pass.domain.backoff import apns_retryable, retry_delay

log = structlog.get_logger("nujoomy.wallet.apns")


@dataclass(frozen=True)
class PushResult:
    token: str
    status: int
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def unregistered(self) -> bool:
        return self.status == 410


class ApnsClient:
    def __init__(
        self,
        credentials: PassCredentials,
        base_url: str,
        *,
        ca_file: str = "",
        max_attempts: int = 4,
        concurrency: int = 64,
    ) -> None:
        self.topic = credentials.pass_type_id
        self.max_attempts = max_attempts
        # Streams in flight on the connection. httpcore's pool scans its queue for every request, so
        # hundreds of waiting requests cost quadratic time; a bound keeps a big batch linear.
        self._streams = asyncio.Semaphore(concurrency)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            http2=True,
            verify=credentials.ssl_context(ca_file),
            timeout=httpx.Timeout(10.0, pool=30.0),
            # One connection multiplexes every stream, as Apple asks; a second only if it drops.
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def push(self, token: str) -> PushResult:
        result = PushResult(token, 0, "NotSent")
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with self._streams:
                    response = await self._http.post(
                        f"/3/device/{token}",
                        content=b"{}",
                        headers={
                            "apns-topic": self.topic,
                            "apns-push-type": "background",
                            "apns-priority": "5",
                        },
                    )
            except httpx.TransportError as exc:
                log.warning("apns_transport_error", error=repr(exc), attempt=attempt)
                result = PushResult(token, 503, "TransportError")
                await asyncio.sleep(retry_delay(attempt))
                continue
            reason = ""
            if response.status_code != 200:
                try:
                    reason = str(response.json().get("reason", ""))
                except ValueError:
                    reason = response.text[:100]
            result = PushResult(token, response.status_code, reason)
            if not apns_retryable(response.status_code):
                return result
            retry_after = response.headers.get("retry-after")
            await asyncio.sleep(retry_delay(attempt, retry_after=float(retry_after) if retry_after else None))
        return result


class ApnsPool:
    """The long-lived clients, keyed by certificate and endpoint (live and test go to different places)."""

    def __init__(self, ca_file: str = "", concurrency: int = 64) -> None:
        self._clients: dict[tuple[str, str], ApnsClient] = {}
        self._ca_file = ca_file
        self._concurrency = concurrency

    def client(self, credentials: PassCredentials, base_url: str) -> ApnsClient:
        key = (credentials.fingerprint, base_url)
        if key not in self._clients:
            self._clients[key] = ApnsClient(
                credentials, base_url, ca_file=self._ca_file, concurrency=self._concurrency
            )
        return self._clients[key]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
