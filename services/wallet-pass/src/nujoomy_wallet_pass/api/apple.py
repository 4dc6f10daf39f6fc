"""Apple's PassKit web service under {PUBLIC_URL}/apple (Apple "Wallet Passes: Adding a web service
to update passes"), and the signed .pkpass download behind a member's apple_pass_url."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

import msgspec
import structlog
from litestar import Request, Response, Router, delete, get, head, post
from litestar.params import Parameter
from nujoomy_contracts import new_envelope
from nujoomy_contracts.wallet import PASS_INSTALLED, PASS_REMOVED, PassInstalled, PassRemoved
from nujoomy_kit.ids import InvalidId, decode_id
from nujoomy_messaging import add_event
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.context import Wallet
from nujoomy_wallet_pass.credentials import PassCredentials
from nujoomy_wallet_pass.db import apple as registrations
from nujoomy_wallet_pass.domain.errors import (
    BadPassToken,
    CardReplaced,
    InvalidDownloadLink,
    InvalidPushToken,
    InvalidSinceTag,
    PassNotFound,
    PassNotReady,
)
from nujoomy_wallet_pass.domain.links import read_download_link
from nujoomy_wallet_pass.domain.registration import device_library_id, push_token
from nujoomy_wallet_pass.pkpass import MEDIA_TYPE
from nujoomy_wallet_pass.render import member_card, pkpass_for

log = structlog.get_logger("nujoomy.wallet.apple")


class Registration(msgspec.Struct):
    pushToken: str = ""  # noqa: N815 - Apple's field name


class SerialNumbers(msgspec.Struct):
    serialNumbers: list[str]  # noqa: N815
    lastUpdated: str  # noqa: N815 - a string: Wallet mishandles a number here


class DeviceLogs(msgspec.Struct):
    logs: list[str] = []


def _serial(serial: str) -> uuid.UUID | None:
    try:
        return decode_id("pas", serial)
    except InvalidId:
        return None


async def _authenticated_pass(
    request: Request[Any, Any, Any], db: AsyncSession, wallet: Wallet, pass_type: str, serial: str
) -> tuple[Row[Any], PassCredentials]:
    """The pass and the certificate that signs it (the tenant's own, or the platform's)."""
    if not await wallet.signers.knows_pass_type(db, pass_type):
        raise PassNotFound("Unknown pass type identifier")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    pid = _serial(serial)
    row = await registrations.apple_pass(db, pid) if pid else None
    # Unknown serial and wrong token answer alike, so the endpoint tells nothing about which passes exist.
    if row is None or scheme != "ApplePass" or not secrets_equal(token.strip(), row.authentication_token):
        raise BadPassToken
    signer = await wallet.signers.resolve(db, row.tenant_id, row.mode)
    if pass_type != signer.pass_type_id:
        raise PassNotFound("Unknown pass type identifier")
    return row, signer


def secrets_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def _tag(moment: datetime) -> str:
    return str(int(moment.timestamp()))


REG_PATH = "/v1/devices/{device:str}/registrations/{pass_type:str}/{serial:str}"


@post(REG_PATH, status_code=201)
async def register_device(  # noqa: PLR0917 - Litestar passes these by name
    request: Request[Any, Any, Any],
    db: AsyncSession,
    wallet: Wallet,
    device: str,
    pass_type: str,
    serial: str,
) -> Response[bytes]:
    row, _ = await _authenticated_pass(request, db, wallet, pass_type, serial)
    device = device_library_id(device)
    try:
        body = msgspec.json.decode(await request.body(), type=Registration)
    except msgspec.DecodeError as exc:
        raise InvalidPushToken(str(exc)) from exc
    if not body.pushToken:
        raise InvalidPushToken
    created = await registrations.register(db, device, row, push_token(body.pushToken))
    if created:
        event = new_envelope(
            PASS_INSTALLED,
            PassInstalled(pass_id=row.id, member_id=row.member_id, wallet="apple", device_id=device),
            tenant_id=row.tenant_id,
            mode=row.mode,
        )
        await add_event(db, event, f"pass:{row.id}")
    return Response(b"", status_code=201 if created else 200)


@delete(REG_PATH, status_code=200)
async def unregister_device(  # noqa: PLR0917 - Litestar passes these by name
    request: Request[Any, Any, Any],
    db: AsyncSession,
    wallet: Wallet,
    device: str,
    pass_type: str,
    serial: str,
) -> Response[bytes]:
    row, _ = await _authenticated_pass(request, db, wallet, pass_type, serial)
    if await registrations.unregister(db, device_library_id(device), row.id):
        event = new_envelope(
            PASS_REMOVED,
            PassRemoved(pass_id=row.id, member_id=row.member_id, wallet="apple", device_id=device),
            tenant_id=row.tenant_id,
            mode=row.mode,
        )
        await add_event(db, event, f"pass:{row.id}")
    return Response(b"", status_code=200)


@get("/v1/devices/{device:str}/registrations/{pass_type:str}")
async def updated_serials(
    db: AsyncSession,
    wallet: Wallet,
    device: str,
    pass_type: str,
    passes_updated_since: Annotated[str | None, Parameter(query="passesUpdatedSince")] = None,
) -> Response[Any]:
    # The device library id is the shared secret here (no ApplePass header on this call).
    device = device_library_id(device)
    since = None
    if passes_updated_since:
        if not passes_updated_since.isdigit():
            raise InvalidSinceTag
        since = datetime.fromtimestamp(int(passes_updated_since), UTC)
    rows = []
    type_of: dict[tuple[uuid.UUID, str], str] = {}
    for pid, updated_at, tenant_id, mode in await registrations.updated_serials(db, device, since):
        # Only the passes of this pass type: a device holding cards of two tenants asks per type.
        if (tenant_id, mode) not in type_of:
            type_of[tenant_id, mode] = (await wallet.signers.resolve(db, tenant_id, mode)).pass_type_id
        if type_of[tenant_id, mode] == pass_type:
            rows.append((pid, updated_at))
    if not rows:
        return Response(b"", status_code=204)
    from nujoomy_kit.ids import encode_id

    body = SerialNumbers(
        serialNumbers=[encode_id("pas", pid) for pid, _ in rows], lastUpdated=_tag(max(t for _, t in rows))
    )
    return Response(msgspec.json.encode(body), media_type="application/json")


async def _pass_response(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    wallet: Wallet,
    pass_type: str,
    serial: str,
    *,
    body: bool,
) -> Response[bytes]:
    row, signer = await _authenticated_pass(request, db, wallet, pass_type, serial)
    modified = row.updated_at.replace(microsecond=0)
    headers = {"Last-Modified": format_datetime(modified, usegmt=True), "Cache-Control": "no-cache"}
    since = request.headers.get("if-modified-since")
    if since:
        try:
            if modified <= parsedate_to_datetime(since):
                return Response(b"", status_code=304, headers=headers)
        except (TypeError, ValueError):
            pass  # an unparseable date is ignored, as RFC 9110 §13.1.3 says
    if not body:
        return Response(b"", status_code=200, headers=headers, media_type=MEDIA_TYPE)
    card = await member_card(
        db,
        wallet.settings,
        signer,
        row.tenant_id,
        row.mode,
        member_id=row.member_id,
        generation=row.generation,
    )
    if card is None:
        raise PassNotFound
    data = await pkpass_for(db, wallet.settings, signer, card, row.tenant_id)
    await registrations.mark_fetched(db, row.id)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)


@get("/v1/passes/{pass_type:str}/{serial:str}")
async def latest_pass(
    request: Request[Any, Any, Any], db: AsyncSession, wallet: Wallet, pass_type: str, serial: str
) -> Response[bytes]:
    return await _pass_response(request, db, wallet, pass_type, serial, body=True)


@head("/v1/passes/{pass_type:str}/{serial:str}")
async def latest_pass_head(
    request: Request[Any, Any, Any], db: AsyncSession, wallet: Wallet, pass_type: str, serial: str
) -> Response[None]:
    # Wallet sometimes asks with HEAD; same status and Last-Modified as GET, no body.
    full = await _pass_response(request, db, wallet, pass_type, serial, body=False)
    headers = {k: v for k, v in full.headers.items() if k.lower() in ("last-modified", "cache-control")}
    return Response(b"", status_code=full.status_code, headers=headers, media_type=MEDIA_TYPE)  # type: ignore[arg-type]


@post("/v1/log", status_code=200)
async def device_log(data: DeviceLogs) -> Response[bytes]:
    for line in data.logs[:50]:
        log.info("wallet_device_log", message=line[:1000])
    return Response(b"", status_code=200)


@get("/passes/{token:str}")
async def download(db: AsyncSession, wallet: Wallet, token: str) -> Response[bytes]:
    link = read_download_link(wallet.download_secret, token, int(time.time()))
    if link is None:
        raise InvalidDownloadLink
    tenant_id, mode, member_id, generation = link
    signer = await wallet.signers.resolve(db, tenant_id, mode)
    card = await member_card(
        db, wallet.settings, signer, tenant_id, mode, member_id=member_id, generation=generation
    )
    if card is None:
        raise PassNotReady("The card is being issued; try again in a moment")
    if card.content.voided:
        raise CardReplaced  # a reissued card's old link: the new card only through its own links
    data = await pkpass_for(db, wallet.settings, signer, card, tenant_id)
    return Response(
        data, media_type=MEDIA_TYPE, headers={"Content-Disposition": 'attachment; filename="card.pkpass"'}
    )


def apple_router() -> Router:
    return Router(
        path="/apple",
        route_handlers=[
            register_device,
            unregister_device,
            updated_serials,
            latest_pass,
            latest_pass_head,
            device_log,
            download,
        ],
        include_in_schema=True,
    )
