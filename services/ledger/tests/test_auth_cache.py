"""The verified-token cache: a token is trusted until its own expiry, a bad one never."""

from __future__ import annotations

import time
import uuid

import pytest
from nujoomy_kit.tokens import Principal, TokenError, TokenVerifier
from nujoomy_ledger.auth_cache import CachingVerifier
from nujoomy_testing.tokens import TestTokens


class Counting(TokenVerifier):
    def __init__(self, inner: TokenVerifier) -> None:
        self.inner = inner
        self.calls = 0

    async def verify(self, token: str) -> Principal:
        self.calls += 1
        return await self.inner.verify(token)


async def test_a_token_is_reused_until_its_expiry_and_a_forged_one_is_refused(tokens: TestTokens) -> None:
    now = [time.time()]
    inner = Counting(tokens.verifier())
    verifier = CachingVerifier(inner, clock=lambda: now[0])
    tenant = uuid.uuid4()
    token = tokens.staff(tenant, role="manager", ttl=60)

    first = await verifier.verify(token)
    assert (first.tenant_id, first.role) == (tenant, "manager")
    assert await verifier.verify(token) is first  # served from the cache
    assert inner.calls == 1

    now[0] += 61  # past its exp: the cache no longer vouches for it
    await verifier.verify(token)
    assert inner.calls == 2

    head, payload, signature = tokens.staff(tenant).split(".")
    forged = f"{head}.{payload}.{signature[:-4]}{'BBBB' if signature.endswith('AAAA') else 'AAAA'}"
    with pytest.raises(TokenError):
        await verifier.verify(forged)
    with pytest.raises(TokenError):
        await verifier.verify(forged)  # a failure is not remembered as a success either
    assert inner.calls == 4
