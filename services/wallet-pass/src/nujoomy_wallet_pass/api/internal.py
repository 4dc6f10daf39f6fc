"""The internal API other services call: a member's pass links and status, re-sync progress."""

from __future__ import annotations

import time
from datetime import datetime

import msgspec
from litestar import Router, get
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import InvalidId, decode_id, encode_id
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.api.cards import links_to_card
from nujoomy_wallet_pass.context import Wallet
from nujoomy_wallet_pass.db import google_callbacks, queries
from nujoomy_wallet_pass.domain.errors import PassNotFound
from nujoomy_wallet_pass.domain.links import download_token


class Links(msgspec.Struct):
    apple_pass_url: str
    google_save_url: str | None
    expires_at: int
    card_url: str  # one short page offering both wallets (what an SMS can carry)


class PassStatus(msgspec.Struct):
    id: str
    wallet: str
    installed: bool
    devices: int
    updated_at: datetime
    last_pushed_at: datetime | None
    last_fetched_at: datetime | None
    google_object_id: str | None = None


class PassList(msgspec.Struct):
    member_id: str
    data: list[PassStatus]


class SyncProgress(msgspec.Struct):
    program_id: str
    total: int
    pushed: int
    done: bool
    started_at: datetime | None
    finished_at: datetime | None


@get("/members/{mbr_id:str}/links", guards=[require_role("manager", "members:read")])
async def member_links(principal: Principal, db: AsyncSession, wallet: Wallet, mbr_id: str) -> Links:
    try:
        member_id = decode_id("mbr", mbr_id)
    except InvalidId as exc:
        raise PassNotFound from exc
    assert principal.mode is not None
    tenant_id, mode = principal.tenant_id, principal.mode
    # The current card's links; before the enrolment has arrived here, the first card's.
    generation = await queries.card_generation(db, tenant_id, mode, member_id) or 0
    expires_at = int(time.time()) + wallet.settings.download_ttl_seconds
    secret = wallet.download_secret
    token = download_token(secret, tenant_id, mode, member_id, expires_at, generation=generation)
    links = links_to_card(wallet, tenant_id, mode, member_id, generation, token)
    return Links(
        apple_pass_url=links.apple_pass_url,
        google_save_url=links.google_save_url,
        expires_at=expires_at,
        card_url=links.card_url,
    )


@get("/members/{mbr_id:str}/passes", guards=[require_role("staff", "members:read")])
async def member_pass_status(principal: Principal, db: AsyncSession, mbr_id: str) -> PassList:
    try:
        member_id = decode_id("mbr", mbr_id)
    except InvalidId as exc:
        raise PassNotFound from exc
    assert principal.mode is not None
    rows = await queries.member_passes(db, principal.tenant_id, principal.mode, member_id)
    if not rows:
        raise PassNotFound
    saved = await google_callbacks.saved_passes(db, [r.id for r in rows if r.wallet == "google"])
    return PassList(
        member_id=mbr_id,
        data=[
            PassStatus(
                id=encode_id("pas", r.id),
                wallet=r.wallet,
                # Apple: a device registered; Google: saved, as Google's save/delete callbacks tell.
                installed=(r.devices > 0) if r.wallet == "apple" else r.id in saved,
                devices=int(r.devices),
                updated_at=r.updated_at,
                last_pushed_at=r.last_pushed_at,
                last_fetched_at=r.last_fetched_at,
                google_object_id=r.object_id,
            )
            for r in rows
        ],
    )


@get("/sync/programs/{prg_id:str}", guards=[require_role("manager")])
async def program_sync(principal: Principal, db: AsyncSession, prg_id: str) -> SyncProgress:
    try:
        program_id = decode_id("prg", prg_id)
    except InvalidId as exc:
        raise PassNotFound from exc
    assert principal.mode is not None
    row = await queries.resync_progress(db, principal.tenant_id, principal.mode, program_id)
    if row is None:
        return SyncProgress(prg_id, 0, 0, True, None, None)
    return SyncProgress(
        program_id=prg_id,
        total=row.total,
        pushed=min(row.pushed, row.total),
        done=row.finished_at is not None,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class PassCounts(msgspec.Struct):
    apple: int  # passes installed on at least one device (a live PassKit registration)
    google: int  # loyalty objects created at Google (saves are not reported back without callbacks)


@get("/passes/summary", guards=[require_role("manager")])
async def pass_counts(principal: Principal, db: AsyncSession) -> PassCounts:
    """Active passes by wallet for the dashboard's overview, in the caller's tenant and mode."""
    assert principal.mode is not None
    apple, google = await queries.pass_counts(db, principal.tenant_id, principal.mode)
    return PassCounts(apple=apple, google=google)


def internal_router() -> Router:
    return Router(
        path="/internal/v1",
        route_handlers=[member_links, member_pass_status, program_sync, pass_counts],
    )
