"""Google's root signing keys for save/delete callbacks, fetched from `google_callback_keys_url` and
cached (`google_callback_keys_ttl_seconds`); refetched early, at most once a minute, when a callback's
intermediate key verifies with none of them (Google rotated its keys)."""

from __future__ import annotations

import asyncio
import time

import httpx
import structlog

from nujoomy_wallet_pass.domain.google_callbacks import RootKey, parse_root_keys

log = structlog.get_logger("nujoomy.wallet.google_keys")
_MIN_REFETCH_SECONDS = 60.0


class GoogleRootKeys:
    def __init__(self, url: str, ttl_seconds: float) -> None:
        self.url = url
        self.ttl = ttl_seconds
        self._keys: list[RootKey] = []
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, *, stale: bool = False) -> list[RootKey]:
        """The cached keys; fetched when older than the TTL, or (stale=True) than a minute."""
        max_age = _MIN_REFETCH_SECONDS if stale else self.ttl
        async with self._lock:
            if not self._keys or time.monotonic() - self._fetched_at > max_age:
                async with httpx.AsyncClient(timeout=10) as http:
                    response = await http.get(self.url)
                    response.raise_for_status()
                self._keys = parse_root_keys(response.content)
                self._fetched_at = time.monotonic()
                log.info("google_root_keys_fetched", url=self.url, keys=len(self._keys))
            return self._keys
