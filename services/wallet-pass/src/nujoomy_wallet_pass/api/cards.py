"""A member's card page, {public_url}/cards/{token}: one short link that offers both wallets.

An SMS has room for this link (about 120 characters), not for Google's save link, which is a signed
JWT of about a kilobyte. The token is the signed, expiring download token of the Apple link, so the
page needs no session and reveals nothing a holder of the Apple link could not already fetch.
"""

from __future__ import annotations

import html
import time
import uuid

import msgspec
from litestar import MediaType, Response, Router, get

from nujoomy_wallet_pass.context import Wallet
from nujoomy_wallet_pass.domain.errors import InvalidDownloadLink
from nujoomy_wallet_pass.domain.links import Mode, google_object_id, read_download_token
from nujoomy_wallet_pass.google import save_url


class MemberLinks(msgspec.Struct, kw_only=True):
    card_url: str
    apple_pass_url: str
    google_save_url: str | None  # None when no Google issuer is configured


def links_to_card(
    wallet: Wallet, tenant_id: uuid.UUID, mode: Mode, member_id: uuid.UUID, token: str
) -> MemberLinks:
    """Every link to a member's card, for a download token already issued for that member."""
    base = wallet.settings.public_url.rstrip("/")
    google = None
    if wallet.account is not None:
        object_id = google_object_id(wallet.settings.google_issuer_id, tenant_id, mode, member_id)
        google = save_url(wallet.account, object_id)
    return MemberLinks(
        card_url=f"{base}/cards/{token}",
        apple_pass_url=f"{base}/apple/passes/{token}",
        google_save_url=google,
    )


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Add your card</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; padding: 2rem 1rem; text-align: center; }}
a {{ display: block; max-width: 20rem; margin: 1rem auto; padding: 0.9rem; border-radius: 0.6rem;
     background: #000; color: #fff; text-decoration: none; font-weight: 600; }}
</style>
</head>
<body>
<h1>Add your card to your phone</h1>
<a id="apple" href="{apple}">Add to Apple Wallet</a>
{google}
</body>
</html>
"""


@get("/{token:str}", media_type=MediaType.HTML)
async def card_page(wallet: Wallet, token: str) -> Response[str]:
    found = read_download_token(wallet.download_secret, token, int(time.time()))
    if found is None:
        raise InvalidDownloadLink
    links = links_to_card(wallet, *found, token=token)
    google = ""
    if links.google_save_url:
        google = f'<a id="google" href="{html.escape(links.google_save_url)}">Save to Google Wallet</a>'
    page = _PAGE.format(apple=html.escape(links.apple_pass_url), google=google)
    # The page holds a live download link: not for shared caches or a later visitor's history.
    return Response(page, media_type=MediaType.HTML, headers={"Cache-Control": "private, no-store"})


def cards_router() -> Router:
    return Router(path="/cards", route_handlers=[card_page], include_in_schema=True)
