"""Staff session tokens: Ed25519 access JWTs and opaque refresh/one-time tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nujoomy_kit.tokens import ALGORITHM, STAFF_AUDIENCE, STAFF_ISSUER, Role


def sign_access_token(
    key: Ed25519PrivateKey,
    kid: str,
    *,
    staff_id: uuid.UUID,
    tenant_id: uuid.UUID,
    role: Role,
    ttl: int,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": STAFF_ISSUER,
        "aud": STAFF_AUDIENCE,
        "sub": str(staff_id),
        "tid": str(tenant_id),
        "role": role,
        "iat": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


def opaque_token() -> str:
    """256 random bits, URL-safe: refresh tokens and invite/reset links."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A plain SHA-256 suffices: the token is 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()
