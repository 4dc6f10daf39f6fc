"""A verified-token cache in front of the kit's TokenVerifier.

A scanner sends the same staff token with every scan; verifying it (three JWT parses and an Ed25519
signature check) costs about as much CPU as the whole ledger transaction. A token's signature and
claims never change, so once verified it is trusted until its own `exp` and no longer: expiry still
takes effect to the second, and a token that failed verification is never cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
from nujoomy_kit.tokens import Principal, TokenVerifier


class CachingVerifier(TokenVerifier):
    # Wraps a verifier instead of being one, so the parent has nothing to initialise.
    def __init__(
        self, inner: TokenVerifier, *, max_entries: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._inner = inner
        self._max = max_entries
        self._clock = clock
        self._verified: dict[str, tuple[float, Principal]] = {}

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        principal = await self._inner.verify(token)  # raises TokenError: nothing is cached
        expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        if len(self._verified) >= self._max:
            self._verified.clear()  # bounded memory; the next requests simply verify again
        self._verified[token] = (expires, principal)
        return principal
