"""Google Wallet's save/delete callbacks at {PUBLIC_URL}/google/callbacks (the loyalty class's
callbackOptions.url): verified ECv2SigningOnly messages become `wallet.pass.installed` /
`wallet.pass.removed` (wallet=google), published through the outbox with the saved state, once per
nonce."""

from __future__ import annotations

import time
from typing import Any

import structlog
from litestar import Request, Response, Router, post
from nujoomy_contracts import new_envelope
from nujoomy_contracts.wallet import PASS_INSTALLED, PASS_REMOVED, PassInstalled, PassRemoved
from nujoomy_messaging import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.context import Wallet
from nujoomy_wallet_pass.db import google_callbacks as store
from nujoomy_wallet_pass.domain.errors import PassNotFound
from nujoomy_wallet_pass.domain.google_callbacks import CallbackSignatureInvalid, verify_callback

log = structlog.get_logger("nujoomy.wallet.google_callbacks")


@post("/callbacks", status_code=200)
async def google_callback(
    request: Request[Any, Any, Any], db: AsyncSession, wallet: Wallet
) -> Response[bytes]:
    body = await request.body()
    keys = wallet.google_keys
    recipient = wallet.settings.google_issuer_id
    now_ms = int(time.time() * 1000)
    try:
        message = verify_callback(body, await keys.get(), recipient_id=recipient, now_ms=now_ms)
    except CallbackSignatureInvalid:
        # Maybe Google rotated its root keys since we fetched them: look again (at most once a minute).
        message = verify_callback(body, await keys.get(stale=True), recipient_id=recipient, now_ms=now_ms)
    if not await store.first_time(db, message.nonce, message.objectId, message.eventType):
        return Response(b"", status_code=200)  # handled before: nothing twice
    saved = message.eventType == "save"
    row = await store.set_saved(db, message.objectId, saved)
    if row is None:
        # Not (yet) an object of ours: the raise rolls back the nonce too, so a retry can still apply.
        log.warning(
            "google_callback_unknown_object", object_id=message.objectId, event_type=message.eventType
        )
        raise PassNotFound("Unknown Google object")
    if row.changed:
        payload = (
            PassInstalled(pass_id=row.id, member_id=row.member_id, wallet="google")
            if saved
            else PassRemoved(pass_id=row.id, member_id=row.member_id, wallet="google")
        )
        event = new_envelope(
            PASS_INSTALLED if saved else PASS_REMOVED, payload, tenant_id=row.tenant_id, mode=row.mode
        )
        await add_event(db, event, f"pass:{row.id}")
    return Response(b"", status_code=200)


def google_router() -> Router:
    return Router(path="/google", route_handlers=[google_callback])
