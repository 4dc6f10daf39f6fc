"""CSV exports of a tenant's members and transactions, streamed: rows leave as they are read, in
keyset batches, so 100,000 members never sit in memory or hold one transaction open."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from nujoomy_kit.ids import encode_id
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_ledger.db import exports
from nujoomy_ledger.operations.scope import Scope

BATCH = 2000
Batch = Callable[[AsyncSession, uuid.UUID, str, uuid.UUID | None, int], Awaitable[Sequence[Any]]]
# A spreadsheet runs a cell that starts with one of these as a formula: a member named "=HYPERLINK(…)"
# must arrive as text (OWASP "CSV injection").
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_IDS = {"id": None, "member_id": "mbr", "reverses": "txn"}


def _cell(name: str, value: Any, id_prefix: str) -> str:
    if value is None:
        return ""
    if isinstance(value, uuid.UUID):
        return encode_id(_IDS.get(name) or id_prefix, value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return str(value)


async def _stream(
    sessions: async_sessionmaker[AsyncSession],
    scope: Scope,
    batch: Batch,
    columns: Sequence[str],
    id_prefix: str,
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    after: uuid.UUID | None = None
    while True:
        async with sessions() as session, session.begin():
            rows = await batch(session, scope.tenant_id, scope.mode, after, BATCH)
        for row in rows:
            writer.writerow([_cell(c, v, id_prefix) for c, v in zip(columns, row, strict=True)])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < BATCH:
            return
        after = rows[-1].id


def members_csv(sessions: async_sessionmaker[AsyncSession], scope: Scope) -> AsyncIterator[bytes]:
    return _stream(sessions, scope, exports.member_batch, exports.MEMBER_COLUMNS, "mbr")


def transactions_csv(sessions: async_sessionmaker[AsyncSession], scope: Scope) -> AsyncIterator[bytes]:
    return _stream(sessions, scope, exports.transaction_batch, exports.TRANSACTION_COLUMNS, "txn")
