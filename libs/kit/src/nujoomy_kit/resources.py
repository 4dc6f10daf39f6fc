"""What a service builds from its settings at start-up: engine, sessions, token verifier."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_kit.settings import ServiceSettings, read_keyset, read_pem
from nujoomy_kit.tokens import (
    InternalTokenIssuer,
    JwksCache,
    SuspendedTenants,
    TokenVerifier,
    http_jwks_fetcher,
    http_suspended_fetcher,
)

# Calls the platform makes on its own behalf (not for a tenant) carry the nil tenant.
PLATFORM_TENANT = uuid.UUID(int=0)
# The one scope a verifier's token carries: reading the tenant service's suspended list.
SUSPENDED_SCOPE = "tenants:suspended"


def database(
    settings: ServiceSettings, *, pre_ping: bool = True
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size, pre_ping=pre_ping)
    return engine, make_sessionmaker(engine)


def token_verifier(settings: ServiceSettings, service: str, jwks: JwksCache | None = None) -> TokenVerifier:
    if jwks is None:
        jwks = JwksCache(http_jwks_fetcher(f"{settings.tenant_url}/.well-known/jwks.json"))
    suspended = None
    issuer = internal_issuer(settings, subject=service)
    if issuer is not None:
        # A suspended tenant's tokens stop working everywhere within the cache time (tenant service).
        suspended = SuspendedTenants(
            http_suspended_fetcher(
                f"{settings.tenant_url}/internal/v1/tenants/suspended",
                lambda: issuer.issue(PLATFORM_TENANT, "live", to="tenant", scopes=(SUSPENDED_SCOPE,)),
            )
        )
    return TokenVerifier(
        service=service, callers=read_keyset(settings.internal_keyset), jwks=jwks, suspended=suspended
    )


def internal_issuer(settings: ServiceSettings, subject: str) -> InternalTokenIssuer | None:
    private = read_pem(settings.internal_private_key)
    return InternalTokenIssuer(private, subject=subject) if private else None
