"""Tokens for tests: a staff-token signer with its JWKS, and an internal-token issuer.

Services under test get `verifier()` (through `build_app(settings, verifier=...)`) so they accept
these tokens without a running tenant service; the tenant service's own tests use its real keys.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nujoomy_kit.tokens import (
    ALGORITHM,
    STAFF_AUDIENCE,
    STAFF_ISSUER,
    InternalTokenIssuer,
    JwksCache,
    Mode,
    Role,
    TokenVerifier,
    key_id,
    private_pem,
    public_jwk,
    public_pem,
)


class TestTokens:
    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self.staff_key = Ed25519PrivateKey.generate()
        self.staff_kid = key_id(self.staff_key.public_key())
        internal = Ed25519PrivateKey.generate()
        self.internal_private_pem = private_pem(internal)
        self.internal_public_pem = public_pem(internal.public_key())
        self._issuer = InternalTokenIssuer(self.internal_private_pem, subject="tests")

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.staff_key.public_key(), self.staff_kid)]}

    def verifier(self) -> TokenVerifier:
        async def fetch() -> dict[str, Any]:
            return self.jwks()

        return TokenVerifier(internal_public_keys=[self.internal_public_pem], jwks=JwksCache(fetch))

    def staff(
        self, tenant_id: uuid.UUID, role: Role = "staff", staff_id: uuid.UUID | None = None, ttl: int = 900
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": STAFF_ISSUER,
            "aud": STAFF_AUDIENCE,
            "sub": str(staff_id or uuid.uuid4()),
            "tid": str(tenant_id),
            "role": role,
            "iat": now,
            "exp": now + ttl,
        }
        return jwt.encode(claims, self.staff_key, algorithm=ALGORITHM, headers={"kid": self.staff_kid})

    def internal(
        self,
        tenant_id: uuid.UUID,
        mode: Mode = "live",
        scopes: tuple[str, ...] = ("read", "write"),
        key: str | None = "key_test",
    ) -> str:
        return self._issuer.issue(tenant_id, mode, key_id=key, scopes=scopes)

    def headers(self, token: str, mode: Mode | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {token}"}
        if mode:
            h["Nujoomy-Mode"] = mode
        return h
