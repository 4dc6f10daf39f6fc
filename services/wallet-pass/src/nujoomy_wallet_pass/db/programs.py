"""The program projection (from tenant.program.updated) and the images of each branding version."""

from __future__ import annotations

import hashlib
import uuid

import msgspec
from nujoomy_contracts.tenant import Program
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_program_decoder = msgspec.json.Decoder(Program)


async def program_row(db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> tuple[Program, str] | None:
    row = (
        await db.execute(
            text("SELECT program, branding_version FROM programs WHERE tenant_id = :t AND mode = :m"),
            {"t": tenant_id, "m": mode},
        )
    ).first()
    if row is None:
        return None
    return _program_decoder.decode(row[0]), row[1]


async def upsert_program(db: AsyncSession, tenant_id: uuid.UUID, mode: str, program: Program) -> str | None:
    """Store a newer program; return the branding version it replaced ('' if none), or None when the
    event is not newer than what we hold (dropped)."""
    previous = (
        await db.execute(
            text(
                "SELECT version, branding_version FROM programs WHERE tenant_id = :t AND mode = :m FOR UPDATE"
            ),
            {"t": tenant_id, "m": mode},
        )
    ).first()
    if previous is not None and previous[0] >= program.version:
        return None
    await db.execute(
        text(
            "INSERT INTO programs (tenant_id, mode, program_id, version, branding_version, program) "
            "VALUES (:t, :m, :p, :v, :b, :body) ON CONFLICT (tenant_id, mode) DO UPDATE SET "
            "program_id = excluded.program_id, version = excluded.version, "
            "branding_version = excluded.branding_version, program = excluded.program, updated_at = now()"
        ),
        {
            "t": tenant_id,
            "m": mode,
            "p": program.program_id,
            "v": program.version,
            "b": branding_version(program),
            "body": msgspec.json.encode(program),
        },
    )
    return "" if previous is None else str(previous[1])


def branding_version(program: Program) -> str:
    """What the card looks like: a digest of everything from the program that a pass shows, so a
    change to rewards or earn rules does not re-push every card, but a new colour or wording does."""
    shown = (program.branding, program.wording, program.tenant)
    return hashlib.sha256(msgspec.json.encode(shown)).hexdigest()[:24]


async def store_images(
    db: AsyncSession, tenant_id: uuid.UUID, mode: str, version: str, images: dict[str, bytes]
) -> None:
    for name, data in images.items():
        await db.execute(
            text(
                "INSERT INTO branding_images (tenant_id, mode, branding_version, name, data) "
                "VALUES (:t, :m, :v, :n, :d) ON CONFLICT DO NOTHING"
            ),
            {"t": tenant_id, "m": mode, "v": version, "n": name, "d": data},
        )


async def images_for(db: AsyncSession, tenant_id: uuid.UUID, mode: str, version: str) -> dict[str, bytes]:
    rows = await db.execute(
        text(
            "SELECT name, data FROM branding_images "
            "WHERE tenant_id = :t AND mode = :m AND branding_version = :v"
        ),
        {"t": tenant_id, "m": mode, "v": version},
    )
    return {r[0]: bytes(r[1]) for r in rows}
