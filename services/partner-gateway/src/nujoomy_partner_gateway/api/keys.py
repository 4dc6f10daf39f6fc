"""The internal API the dashboard BFF uses to manage API keys (staff token, manager or owner)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
import redis.asyncio as redis
from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import InvalidId, decode_id, encode_id
from nujoomy_kit.problems import InvalidInput, NotFound
from nujoomy_kit.tokens import Principal
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.db import keys as db_keys
from nujoomy_partner_gateway.domain.keys import ALL_SCOPES, Mode, Scope
from nujoomy_partner_gateway.edge.keystore import publish_invalidation
from nujoomy_partner_gateway.operations import keys as key_operations


class CreateKey(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A key's rate and concurrency limits are not here: they are operator settings
    (`nujoomy keys limits`), and a body that tries to set them is refused (422)."""

    name: str
    scopes: list[Scope] = msgspec.field(default_factory=lambda: list(ALL_SCOPES))


class ApiKey(msgspec.Struct, kw_only=True):
    id: str
    name: str
    mode: Mode
    redacted: str
    scopes: list[str]
    rate: float | None
    burst: int | None
    max_in_flight: int | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    rolled_from: str | None
    secret: str | None = None  # only in the answer that created it


class KeyList(msgspec.Struct):
    data: list[ApiKey]


def to_api_key(row: Row[Any], secret: str | None = None) -> ApiKey:
    return ApiKey(
        id=encode_id("key", row.id),
        name=row.name,
        mode=row.mode,
        redacted=row.redacted,
        scopes=list(row.scopes),
        rate=row.rate,
        burst=row.burst,
        max_in_flight=row.max_in_flight,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        rolled_from=encode_id("key", row.rolled_from) if row.rolled_from else None,
        secret=secret,
    )


def _key_uuid(key_id: str) -> Any:
    try:
        return decode_id("key", key_id)
    except InvalidId as exc:
        raise NotFound("No such API key") from exc


def _mode(principal: Principal) -> Mode:
    assert principal.mode is not None
    return principal.mode


async def _invalidate(state: State, row: Row[Any]) -> None:
    client: redis.Redis = state["redis"]
    await publish_invalidation(client, state["settings"].redis_prefix, row.sha256)


class ApiKeysController(Controller):
    """Mode comes from the staff session's `Nujoomy-Mode` header: test keys for the test plane."""

    path = "/internal/v1/api_keys"
    guards = [require_role("manager")]
    tags = ["internal: api keys"]

    @post("/", status_code=201)
    async def create(self, data: CreateKey, db: AsyncSession, principal: Principal, state: State) -> ApiKey:
        if not data.scopes:
            raise InvalidInput("A key needs at least one scope")
        row, secret = await key_operations.create_key(
            db,
            principal.tenant_id,
            _mode(principal),
            name=data.name,
            scopes=sorted(set(data.scopes)),
            default_cap=state["settings"].max_keys_per_tenant,
        )
        return to_api_key(row, secret)

    @get("/")
    async def list_keys(self, db: AsyncSession, principal: Principal) -> KeyList:
        rows = await db_keys.list_keys(db, principal.tenant_id, _mode(principal))
        return KeyList(data=[to_api_key(r) for r in rows])

    @delete("/{key_id:str}", status_code=200)
    async def revoke(self, key_id: str, db: AsyncSession, principal: Principal, state: State) -> ApiKey:
        row = await db_keys.revoke_key(db, principal.tenant_id, _mode(principal), _key_uuid(key_id))
        if row is None:
            raise NotFound("No such API key")
        await db.commit()  # visible before any replica reloads it
        await _invalidate(state, row)
        return to_api_key(row)

    @post("/{key_id:str}/roll", status_code=201)
    async def roll(
        self,
        key_id: str,
        db: AsyncSession,
        principal: Principal,
        state: State,
        grace_seconds: Annotated[int | None, Parameter(query="grace_seconds", ge=0, le=30 * 86400)] = None,
    ) -> ApiKey:
        grace = state["settings"].key_roll_grace_seconds if grace_seconds is None else grace_seconds
        rolled = await key_operations.roll_key(
            db,
            principal.tenant_id,
            _mode(principal),
            _key_uuid(key_id),
            grace_seconds=grace,
            default_cap=state["settings"].max_keys_per_tenant,
        )
        if rolled is None:
            raise NotFound("No such API key")
        new, secret, old = rolled
        await db.commit()
        await _invalidate(state, old)
        return to_api_key(new, secret)
