"""Tokens for tests: a staff-token signer with its JWKS, one internal signing key per calling service
(as deployed: each service its own) plus one for the tests themselves, and the member-link key pair.

Services under test get `verifier(service)` (through `build_app(settings, verifier=...)`) so they accept
these tokens without a running tenant service; `service_settings(service)` gives a service its own
signing key and the keyset of every caller. The tenant service's own tests use its real staff keys.
"""

from __future__ import annotations

import json
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

# Every service that calls another, and the tests' own caller name (also the default audience of
# `verifier()` and `internal()`, so a service's own tests need not name it).
TESTS = "tests"
CALLERS = ("partner-gateway", "tenant", "ledger", "wallet-pass", "notification", TESTS)


class TestTokens:
    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self.staff_key = Ed25519PrivateKey.generate()
        self.staff_kid = key_id(self.staff_key.public_key())
        keys = {caller: Ed25519PrivateKey.generate() for caller in CALLERS}
        self.private_pems = {caller: private_pem(key) for caller, key in keys.items()}
        self.public_pems = {caller: public_pem(key.public_key()) for caller, key in keys.items()}
        # The keyset every service trusts here (setting internal_keyset): caller → public key.
        self.keyset = json.dumps(self.public_pems)
        link = Ed25519PrivateKey.generate()
        self.member_link_private_pem = private_pem(link)
        self.member_link_public_pem = public_pem(link.public_key())
        self._issuer = InternalTokenIssuer(self.private_pems[TESTS], subject=TESTS)

    def service_settings(self, service: str) -> dict[str, str]:
        """Settings overrides for `service`: its own signing key, and the member-link key it holds
        (wallet-pass signs, the gateway checks). The keyset (`internal_keyset=tokens.keyset`) is
        usually shared by a stack's services."""
        found = {"internal_private_key": self.private_pems[service]}
        if service == "wallet-pass":
            found["member_link_private_key"] = self.member_link_private_pem
        if service == "partner-gateway":
            found["member_link_public_key"] = self.member_link_public_pem
        return found

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.staff_key.public_key(), self.staff_kid)]}

    def verifier(self, service: str = TESTS) -> TokenVerifier:
        """A verifier for `service` (internal tokens addressed to it), trusting every caller's key."""

        async def fetch() -> dict[str, Any]:
            return self.jwks()

        callers = {caller: [pem] for caller, pem in self.public_pems.items()}
        return TokenVerifier(service=service, callers=callers, jwks=JwksCache(fetch))

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
        to: str = TESTS,
    ) -> str:
        """An internal token from the tests (their own key) addressed to `to`."""
        return self._issuer.issue(tenant_id, mode, to=to, key_id=key, scopes=scopes)

    def headers(self, token: str, mode: Mode | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {token}"}
        if mode:
            h["Nujoomy-Mode"] = mode
        return h
