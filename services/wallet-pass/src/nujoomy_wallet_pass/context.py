"""What the API and the worker build once from settings: certificates, keys, link secret."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from cryptography.hazmat.primitives import serialization
from litestar.params import Dependency

from nujoomy_wallet_pass.credentials import PassCredentials, load_credentials
from nujoomy_wallet_pass.domain.certificates import master_key
from nujoomy_wallet_pass.google import ServiceAccount
from nujoomy_wallet_pass.google_keys import GoogleRootKeys
from nujoomy_wallet_pass.settings import Settings
from nujoomy_wallet_pass.signers import Signers


@dataclass(frozen=True)
class WalletContext:
    settings: Settings
    credentials: PassCredentials
    download_secret: bytes
    account: ServiceAccount | None
    # The tenant's own certificate when it brought one, else `credentials` (the platform's).
    signers: Signers
    google_keys: GoogleRootKeys  # for verifying save/delete callbacks

    @classmethod
    def from_settings(cls, settings: Settings) -> WalletContext:
        credentials = load_credentials(settings)
        if settings.download_secret:
            secret = settings.download_secret.encode()
        else:
            # Derived from the pass key, so a deployment needs no extra secret to get stable links.
            der = credentials.key.private_bytes(  # type: ignore[union-attr]
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            secret = hashlib.sha256(b"nujoomy-pass-download" + der).digest()
        account = (
            ServiceAccount.load(settings.google_service_account) if settings.google_service_account else None
        )
        signers = Signers(credentials, master_key(settings.certificate_encryption_key))
        keys = GoogleRootKeys(settings.google_callback_keys_url, settings.google_callback_keys_ttl_seconds)
        return cls(settings, credentials, secret, account, signers, keys)


# Handlers declare `wallet: Wallet`; Litestar must not try to model the certificates inside.
Wallet = Annotated[WalletContext, Dependency(skip_validation=True)]
