"""Which certificate signs (and pushes) a tenant's passes: its own Pass Type ID certificate for that
mode when it uploaded one, the platform's otherwise.

`resolve` costs one primary-key lookup of the fingerprint; the decrypted certificate and key are
cached by fingerprint, so a replaced certificate is picked up by every process on its next lookup
and APNs clients (keyed by fingerprint) follow it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_wallet_pass.credentials import PassCredentials
from nujoomy_wallet_pass.db import certificates as store
from nujoomy_wallet_pass.domain.certificates import (
    CertificatesDisabled,
    SigningKey,
    check,
    open_key,
    seal_key,
    subject_field,
)


class Signers:
    def __init__(self, platform: PassCredentials, master: bytes | None) -> None:
        self.platform = platform
        self._master = master
        self._by_fingerprint: dict[str, PassCredentials] = {}
        self._current: dict[tuple[uuid.UUID, str], PassCredentials] = {}

    async def resolve(self, db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> PassCredentials:
        print_ = await store.current_fingerprint(db, tenant_id, mode)
        if print_ is None or self._master is None:
            found = self.platform
        elif print_ in self._by_fingerprint:
            found = self._by_fingerprint[print_]
        else:
            found = await self._load(db, tenant_id, mode) or self.platform
        self._current[(tenant_id, mode)] = found
        return found

    async def refresh(
        self, sessions: async_sessionmaker[AsyncSession], planes: set[tuple[uuid.UUID, str]]
    ) -> None:
        """Resolve these (tenant, mode) planes now, so `cached` answers for them (a batch's start)."""
        async with sessions() as db:
            for tenant_id, mode in planes:
                await self.resolve(db, tenant_id, mode)

    def cached(self, tenant_id: uuid.UUID, mode: str) -> PassCredentials:
        """The signer `resolve` last found for this tenant and mode (the platform's if never asked)."""
        return self._current.get((tenant_id, mode), self.platform)

    async def knows_pass_type(self, db: AsyncSession, pass_type_id: str) -> bool:
        return pass_type_id == self.platform.pass_type_id or await store.pass_type_in_use(db, pass_type_id)

    async def _load(self, db: AsyncSession, tenant_id: uuid.UUID, mode: str) -> PassCredentials | None:
        assert self._master is not None
        row = await store.material(db, tenant_id, mode)
        if row is None:
            return None
        certificate = x509.load_pem_x509_certificate(bytes(row.certificate))
        key = open_key(
            self._master, bytes(row.key_ciphertext), tenant=str(tenant_id), mode=mode, print_=row.fingerprint
        )
        found = PassCredentials(
            certificate=certificate,
            key=key,
            wwdr=self.platform.wwdr,
            pass_type_id=subject_field(certificate, NameOID.USER_ID),
            team_id=subject_field(certificate, NameOID.ORGANIZATIONAL_UNIT_NAME),
        )
        self._by_fingerprint[row.fingerprint] = found
        return found

    async def upload(
        self, db: AsyncSession, tenant_id: uuid.UUID, mode: str, cert: x509.Certificate, key: SigningKey
    ) -> Row[Any]:
        """Check the certificate (422 with a stable code when unusable), seal its key, store it."""
        if self._master is None:
            raise CertificatesDisabled
        checked = check(cert, key, self.platform.wwdr, datetime.now(UTC))
        sealed = seal_key(
            self._master, checked.key, tenant=str(tenant_id), mode=mode, print_=checked.fingerprint
        )
        return await store.save(db, tenant_id, mode, checked, sealed)
