"""What a service builds from its settings at start-up: engine, sessions, token verifier."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_kit.settings import ServiceSettings, read_pem
from nujoomy_kit.tokens import InternalTokenIssuer, JwksCache, TokenVerifier, http_jwks_fetcher


def database(settings: ServiceSettings) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    return engine, make_sessionmaker(engine)


def token_verifier(settings: ServiceSettings, jwks: JwksCache | None = None) -> TokenVerifier:
    public = read_pem(settings.internal_public_key)
    if jwks is None:
        jwks = JwksCache(http_jwks_fetcher(f"{settings.tenant_url}/.well-known/jwks.json"))
    return TokenVerifier(internal_public_keys=[public] if public else [], jwks=jwks)


def internal_issuer(settings: ServiceSettings, subject: str) -> InternalTokenIssuer | None:
    private = read_pem(settings.internal_private_key)
    return InternalTokenIssuer(private, subject=subject) if private else None
