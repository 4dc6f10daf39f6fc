"""Fetching a member's wallet links from wallet-pass (`GET /internal/v1/members/{mbr_id}/links`)."""

from __future__ import annotations

import uuid

import httpx
import msgspec
from nujoomy_kit.ids import encode_id
from nujoomy_kit.tokens import InternalTokenIssuer


class WalletLinks(msgspec.Struct, kw_only=True):
    apple_pass_url: str
    google_save_url: str | None = None  # None when wallet-pass has no Google issuer configured
    card_url: str | None = None  # one short page offering both wallets: what an SMS carries


class WalletPassUnavailable(RuntimeError):
    """wallet-pass did not answer with the links; the welcome event is retried later."""


class WalletLinkClient:
    def __init__(self, base_url: str, issuer: InternalTokenIssuer | None, timeout: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._issuer = issuer
        self._timeout = timeout

    async def links(self, tenant_id: uuid.UUID, mode: str, member_id: uuid.UUID) -> WalletLinks:
        if self._issuer is None:
            raise WalletPassUnavailable("no internal token key is configured")
        token = self._issuer.issue(
            tenant_id, "live" if mode == "live" else "test", to="wallet-pass", scopes=("members:read",)
        )
        url = f"{self._base_url}/internal/v1/members/{encode_id('mbr', member_id)}/links"
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise WalletPassUnavailable(f"wallet-pass unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise WalletPassUnavailable(f"wallet-pass answered {response.status_code}")
        try:
            return msgspec.json.decode(response.content, type=WalletLinks)
        except msgspec.DecodeError as exc:
            raise WalletPassUnavailable(f"wallet-pass answered an unexpected body: {exc}") from exc
