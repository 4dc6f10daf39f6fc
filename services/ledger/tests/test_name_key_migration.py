"""Migration 0004 gives members enrolled before it their name_key, so the name search finds them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
from nujoomy_kit.db import create_database, plain_url, run_migrations, with_database

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def test_members_enrolled_before_the_migration_get_their_name_key(pg_url: str) -> None:
    name = f"t_ledger_namekey_{uuid.uuid4().hex[:10]}"
    url = plain_url(with_database(pg_url, name))
    await create_database(pg_url, name)
    try:
        await asyncio.to_thread(run_migrations, MIGRATIONS, url, "0003")
        conn = await asyncpg.connect(url)
        try:
            tenant = uuid.uuid4()
            for who in ("José  Álvarez", None):
                await conn.execute(
                    "INSERT INTO members (id, tenant_id, mode, name) VALUES ($1, $2, 'live', $3)",
                    uuid.uuid4(),
                    tenant,
                    who,
                )
            await asyncio.to_thread(run_migrations, MIGRATIONS, url, "head")
            keys = await conn.fetch("SELECT name, name_key FROM members ORDER BY name NULLS LAST")
            assert [tuple(k) for k in keys] == [("José  Álvarez", "jose alvarez"), (None, None)]
        finally:
            await conn.close()
    finally:
        admin = await asyncpg.connect(plain_url(pg_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
