"""Database plumbing: engines, sessions owned by the request, and running a service's migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_url(url: str) -> str:
    """Accept `postgresql://` (libpq style, what operators paste) and use the asyncpg driver."""
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url[len("postgres://") :]
    return url


def plain_url(url: str) -> str:
    """The libpq form (for asyncpg.connect and pgbench)."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


def make_engine(
    url: str, pool_size: int = 10, max_overflow: int = 5, *, pre_ping: bool = True
) -> AsyncEngine:
    """`pre_ping` tests each connection with a round trip when it leaves the pool, so a request does
    not fail on a connection the server dropped. A worker whose failed transaction is retried anyway
    (consumer redelivery, a runner's next pass) can save that round trip per transaction."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits when the block ends normally, rolls back on any exception."""
    async with sessions() as session, session.begin():
        yield session


async def ping(engine: AsyncEngine, timeout: float = 2.0) -> None:
    async def _go() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))

    await asyncio.wait_for(_go(), timeout)


def run_migrations(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Upgrade a database with the service's alembic history (blocking; call in a thread from async)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    command.upgrade(cfg, revision)


async def create_database(admin_url: str, name: str, template: str | None = None) -> bool:
    """Create `name` if it is missing. Returns True when it was created."""
    import asyncpg

    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", name)
        if exists:
            return False
        tmpl = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
        return True
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    """Same server and credentials, another database."""
    base, _, _ = url.rpartition("/")
    query = ""
    if "?" in url.rsplit("/", 1)[1]:
        query = "?" + url.rsplit("?", 1)[1]
    return f"{base}/{name}{query}"
