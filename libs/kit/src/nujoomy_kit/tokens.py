"""Tokens every service verifies: staff session tokens (issued by tenant) and internal tokens.

- Staff tokens: Ed25519 JWTs signed by the tenant service; public keys at its
  `/.well-known/jwks.json`. `JwksCache` fetches them once, keeps them for `ttl` seconds and refetches
  early (at most once per `min_refresh` seconds) when a token names an unknown `kid`, so a key
  rollover needs no restart and a flood of bogus kids cannot hammer the tenant service.
- Internal tokens: short-lived Ed25519 JWTs minted by a caller inside the platform (the gateway for a
  partner request, a worker calling a sibling) carrying tenant, mode, key id and scopes. Each calling
  service signs with its own key (`sub` = its name) and addresses one callee (`aud` =
  `nujoomy-<callee>`); a callee trusts only the public keys of the callers in its keyset, each key
  bound to its caller's name, so a token minted for the wallet-pass service is refused by the ledger
  and one caller cannot speak for another. Services trust only these and staff tokens.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal

import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

STAFF_AUDIENCE = "nujoomy-staff"
STAFF_ISSUER = "nujoomy-tenant"
INTERNAL_ISSUER = "nujoomy-internal"
ALGORITHM = "EdDSA"

Mode = Literal["live", "test"]
Role = Literal["owner", "manager", "staff"]
ROLE_RANK: dict[str, int] = {"staff": 1, "manager": 2, "owner": 3}


class TokenError(Exception):
    """The token is missing, malformed, expired, for another audience or signed by an unknown key."""


class Principal(msgspec.Struct, frozen=True):
    """Who is calling, as established by a verified token."""

    kind: Literal["staff", "internal"]
    tenant_id: uuid.UUID
    mode: Mode | None = None
    staff_id: uuid.UUID | None = None
    role: Role | None = None
    key_id: str | None = None
    scopes: tuple[str, ...] = ()
    subject: str = ""

    def has_role(self, minimum: Role) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[minimum]


def audience(service: str) -> str:
    """The `aud` of an internal token addressed to `service` (e.g. `nujoomy-ledger`)."""
    return f"nujoomy-{service}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "alg": "EdDSA", "use": "sig"}


def key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise TokenError("unsupported key type")
    x = jwk["x"]
    raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TokenError("expected an Ed25519 private key")
    return key


def load_public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise TokenError("expected an Ed25519 public key")
    return key


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """A stable kid: the JWK thumbprint idea, shortened (RFC 7638 spirit, not its exact bytes)."""
    import hashlib

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64url(hashlib.sha256(raw).digest()[:12])


# ---------------------------------------------------------------------------------------------- internal


class InternalTokenIssuer:
    def __init__(self, private_key_pem: str, subject: str, ttl: int = 60) -> None:
        self._key = load_private_key(private_key_pem)
        self._kid = key_id(self._key.public_key())
        self._subject = subject
        self._ttl = ttl
        self._cache: dict[tuple[Any, ...], tuple[float, str]] = {}

    def issue(
        self,
        tenant_id: uuid.UUID,
        mode: Mode,
        *,
        to: str,
        key_id: str | None = None,
        scopes: tuple[str, ...] = (),
        staff_id: uuid.UUID | None = None,
        role: Role | None = None,
    ) -> str:
        # Signing is ~50 µs; reusing a token for half its life keeps it off the gateway's hot path.
        cache_key = (to, tenant_id, mode, key_id, scopes, staff_id, role)
        now = time.time()
        hit = self._cache.get(cache_key)
        if hit and hit[0] > now:
            return hit[1]
        claims: dict[str, Any] = {
            "iss": INTERNAL_ISSUER,
            "aud": audience(to),
            "sub": self._subject,
            "tid": str(tenant_id),
            "mode": mode,
            "scp": list(scopes),
            "iat": int(now),
            "exp": int(now) + self._ttl,
        }
        if key_id:
            claims["kid"] = key_id
        if staff_id:
            claims["sid"] = str(staff_id)
        if role:
            claims["role"] = role
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[cache_key] = (now + self._ttl / 2, token)
        return token


# ---------------------------------------------------------------------------------------------- verify

JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class JwksCache:
    """The tenant service's staff-token keys, cached."""

    def __init__(self, fetch: JwksFetcher, ttl: float = 300.0, min_refresh: float = 5.0) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at = 0.0

    async def _refresh(self) -> None:
        document = await self._fetch()
        keys = {}
        for jwk in document.get("keys", []):
            try:
                keys[jwk["kid"]] = key_from_jwk(jwk)
            except (KeyError, ValueError, TokenError):
                continue
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def get(self, kid: str) -> Ed25519PublicKey:
        age = time.monotonic() - self._fetched_at
        if age > self._ttl or (kid not in self._keys and age > self._min_refresh):
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise TokenError("unknown signing key")
        return key


def http_jwks_fetcher(url: str) -> JwksFetcher:
    import httpx

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

    return fetch


SuspendedFetcher = Callable[[], Awaitable[Iterable[uuid.UUID]]]


class SuspendedTenants:
    """The ids of suspended tenants (from the tenant service), believed for at most `ttl` seconds, so a
    suspension stops every token of that tenant on every service within `ttl` plus one fetch.

    If a refresh fails the last known set is kept and the next attempt waits `retry` seconds: an outage
    of the tenant service must not lock every tenant out, nor turn each request into a failing call.
    """

    def __init__(self, fetch: SuspendedFetcher, ttl: float = 30.0, retry: float = 5.0) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._retry = retry
        self._ids: frozenset[uuid.UUID] = frozenset()
        self._next_refresh = 0.0

    async def contains(self, tenant_id: uuid.UUID) -> bool:
        now = time.monotonic()
        if now >= self._next_refresh:
            try:
                self._ids = frozenset(await self._fetch())
                self._next_refresh = now + self._ttl
            except Exception as exc:  # any failure: keep the last set, say so, retry soon
                import structlog

                log = structlog.get_logger("nujoomy.tokens")
                log.warning("suspended_tenants_refresh_failed", error=repr(exc))
                self._next_refresh = now + self._retry
        return tenant_id in self._ids


def http_suspended_fetcher(url: str, token: Callable[[], str]) -> SuspendedFetcher:
    """GET `url` (the tenant service's /internal/v1/tenants/suspended) with an internal token."""
    import httpx

    async def fetch() -> list[uuid.UUID]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url, headers={"Authorization": f"Bearer {token()}"})
            response.raise_for_status()
            return [uuid.UUID(t) for t in response.json()["tenant_ids"]]

    return fetch


class TokenVerifier:
    """Verifies staff tokens and the internal tokens addressed to `service`; returns the Principal or
    raises TokenError. `callers` maps each trusted calling service to its public keys (PEM; several
    during a rotation)."""

    def __init__(
        self,
        *,
        service: str,
        callers: Mapping[str, list[str]] | None = None,
        jwks: JwksCache | None = None,
        leeway: int = 5,
        suspended: SuspendedTenants | None = None,
    ) -> None:
        self._audience = audience(service)
        self._internal = {
            key_id(key): (caller, key)
            for caller, pems in (callers or {}).items()
            for key in (load_public_key(p) for p in pems)
        }
        self._jwks = jwks
        self._leeway = leeway
        self._suspended = suspended

    async def tenant_suspended(self, tenant_id: uuid.UUID) -> bool:
        """Whether the tenant is suspended, for credentials this verifier does not check itself (a
        partner's API key at the gateway)."""
        return self._suspended is not None and await self._suspended.contains(tenant_id)

    async def verify(self, token: str) -> Principal:
        principal = await self._verify(token)
        if self._suspended is not None and await self._suspended.contains(principal.tenant_id):
            raise TokenError("tenant suspended")
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TokenError("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenError("unexpected algorithm")
        kid = str(header.get("kid", ""))
        aud = unverified.get("aud")
        if aud == STAFF_AUDIENCE and self._jwks is not None:
            key = await self._jwks.get(kid)
            claims = self._decode(token, key, STAFF_AUDIENCE, STAFF_ISSUER)
            return _staff_principal(claims)
        if aud != self._audience:
            raise TokenError("token is not for this service")
        trusted = self._internal.get(kid)
        if trusted is None:
            raise TokenError("unknown internal signing key")
        caller, key = trusted
        claims = self._decode(token, key, self._audience, INTERNAL_ISSUER)
        if claims.get("sub") != caller:
            # A key is trusted for one caller: it cannot mint tokens in another service's name.
            raise TokenError("internal token signed by another caller's key")
        return _internal_principal(claims)

    def _decode(self, token: str, key: Ed25519PublicKey, audience: str, issuer: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=issuer,
                leeway=self._leeway,
                options={"require": ["exp", "aud", "iss", "tid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        return claims


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise TokenError("invalid tenant claim") from exc


def _internal_principal(claims: dict[str, Any]) -> Principal:
    mode = claims.get("mode")
    if mode not in ("live", "test"):
        raise TokenError("internal token without a mode")
    role = claims.get("role")
    return Principal(
        kind="internal",
        tenant_id=_uuid(claims["tid"]),
        mode=mode,
        key_id=claims.get("kid"),
        scopes=tuple(claims.get("scp", [])),
        staff_id=_uuid(claims["sid"]) if claims.get("sid") else None,
        role=role if role in ROLE_RANK else None,
        subject=str(claims.get("sub", "")),
    )


def _staff_principal(claims: dict[str, Any]) -> Principal:
    role = claims.get("role")
    if role not in ROLE_RANK:
        raise TokenError("unknown role")
    return Principal(
        kind="staff",
        tenant_id=_uuid(claims["tid"]),
        staff_id=_uuid(claims["sub"]),
        role=role,
        subject=str(claims["sub"]),
    )
