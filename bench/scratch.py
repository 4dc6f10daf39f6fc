"""Scratch databases for benchmarks: created (and migrated) for one run, dropped after it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

ADMIN_URL = os.environ.get("NUJOOMY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


async def scratch_db(name: str, migrations: Path) -> str:
    """A fresh database `name` at the service's latest migration; returns its URL."""
    import asyncpg
    from nujoomy_kit.db import run_migrations, with_database

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(ADMIN_URL, name)
    await asyncio.to_thread(run_migrations, migrations, url)
    return url


async def drop_db(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
