"""A tenant's own Pass Type ID certificate, per mode (manager or owner): upload, show, remove.
`show` gives what identifies the certificate — never the key."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import msgspec
from litestar import Router, delete, get, put
from nujoomy_kit.auth import require_role
from nujoomy_kit.tokens import Principal
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.context import Wallet
from nujoomy_wallet_pass.db import certificates as store
from nujoomy_wallet_pass.domain.certificates import CertificateNotFound, CertificateUnreadable, read_upload


class CertificateUpload(msgspec.Struct):
    """PEM `certificate` + `private_key`, or a base64 `p12`; `password` for an encrypted key or .p12."""

    certificate: str | None = None
    private_key: str | None = None
    p12: str | None = None
    password: str = ""


class CertificateInfo(msgspec.Struct):
    mode: str
    pass_type_id: str
    team_id: str
    fingerprint_sha256: str
    expires_at: datetime
    uploaded_at: datetime


def certificate_info(mode: str, row: Row[Any]) -> CertificateInfo:
    return CertificateInfo(
        mode=mode,
        pass_type_id=row.pass_type_id,
        team_id=row.team_id,
        fingerprint_sha256=row.fingerprint,
        expires_at=row.not_after,
        uploaded_at=row.created_at,
    )


def decode_p12(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertificateUnreadable("p12 must be base64") from exc


@put("/", status_code=200)
async def upload_certificate(
    principal: Principal, db: AsyncSession, wallet: Wallet, data: CertificateUpload
) -> CertificateInfo:
    assert principal.mode is not None
    cert, key = read_upload(
        certificate=data.certificate.encode() if data.certificate else None,
        key=data.private_key.encode() if data.private_key else None,
        p12=decode_p12(data.p12),
        password=data.password,
    )
    row = await wallet.signers.upload(db, principal.tenant_id, principal.mode, cert, key)
    return certificate_info(principal.mode, row)


@get("/")
async def show_certificate(principal: Principal, db: AsyncSession) -> CertificateInfo:
    assert principal.mode is not None
    row = await store.info(db, principal.tenant_id, principal.mode)
    if row is None:
        raise CertificateNotFound
    return certificate_info(principal.mode, row)


@delete("/", status_code=204)
async def remove_certificate(principal: Principal, db: AsyncSession) -> None:
    """Passes go back to the platform's certificate (their pass type id changes with it)."""
    assert principal.mode is not None
    if not await store.remove(db, principal.tenant_id, principal.mode):
        raise CertificateNotFound


def certificates_router() -> Router:
    return Router(
        path="/internal/v1/certificates/apple",
        route_handlers=[upload_certificate, show_certificate, remove_certificate],
        guards=[require_role("manager")],
    )
