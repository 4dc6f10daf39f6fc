"""The partner API's hot read queries on a raw asyncpg pool: no ORM, no session, no transaction.

`GET /v1/events` is the gateway's own busiest query. Each is one statement (its own snapshot), so
a transaction would only add BEGIN and COMMIT round trips; asyncpg prepares each statement once
per connection and caches it. Every query filters by (tenant, mode) like the SQLAlchemy ones.
"""

from __future__ import annotations

import uuid

import asyncpg

from nujoomy_partner_gateway.domain.keys import Mode

_EVENTS = "SELECT id, body FROM webhook_events WHERE tenant_id = $1 AND mode = $2"
# One statement per filter combination rather than `($3 IS NULL OR id < $3)`: a generic plan for
# the latter cannot bound the (tenant_id, mode, id) index scan.
_LIST_EVENTS = {
    (False, False): f"{_EVENTS} ORDER BY id DESC LIMIT $3",
    (True, False): f"{_EVENTS} AND id < $3 ORDER BY id DESC LIMIT $4",
    (False, True): f"{_EVENTS} AND type = $3 ORDER BY id DESC LIMIT $4",
    (True, True): f"{_EVENTS} AND id < $3 AND type = $4 ORDER BY id DESC LIMIT $5",
}
_GET_EVENT = f"{_EVENTS} AND id = $3"


async def _keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset on release (RESET ALL, UNLISTEN, ...) is a round trip per query; these
    connections only ever run the read-only statements below, which change no session state."""


class Reads:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, database_url: str, size: int) -> Reads:
        # min_size 0: no connection at start-up, so the app starts (and reports not ready) with the
        # database down, as with the SQLAlchemy engine; a connect gives up after 5 s.
        pool = await asyncpg.create_pool(
            database_url, min_size=0, max_size=size, reset=_keep_session, timeout=5
        )
        return cls(pool)

    async def aclose(self) -> None:
        await self._pool.close()

    async def list_events(
        self,
        tenant_id: uuid.UUID,
        mode: Mode,
        *,
        before: uuid.UUID | None,
        limit: int,
        type_: str | None,
    ) -> list[asyncpg.Record]:
        args: list[object] = [tenant_id, mode]
        if before is not None:
            args.append(before)
        if type_:
            args.append(type_)
        query = _LIST_EVENTS[(before is not None, bool(type_))]
        return list(await self._pool.fetch(query, *args, limit))

    async def get_event(self, tenant_id: uuid.UUID, mode: Mode, event_id: uuid.UUID) -> asyncpg.Record | None:
        return await self._pool.fetchrow(_GET_EVENT, tenant_id, mode, event_id)  # type: ignore[no-any-return]
