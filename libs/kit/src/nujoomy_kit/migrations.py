"""The body of every service's alembic `env.py`, so the nine lines are not written five times."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def run_env(metadata: MetaData, version_table: str = "alembic_version") -> None:
    """Run the migrations alembic asked for, online, over asyncpg."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")

    def _do(conn: Connection) -> None:
        context.configure(connection=conn, target_metadata=metadata, version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()

    async def _main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(_do)
            await conn.commit()
        await engine.dispose()

    asyncio.run(_main())
