"""A member's card page, {public_url}/cards/{token}: one short link that offers both wallets.

An SMS has room for this link (about 120 characters), not for Google's save link, which is a signed
JWT of about a kilobyte. The token is the signed, expiring download token of the Apple link, so the
page needs no session and reveals nothing a holder of the Apple link could not already fetch.
"""

from __future__ import annotations

import html
import re
import time
import uuid

import msgspec
from litestar import MediaType, Response, Router, get
from nujoomy_contracts.tenant import Program
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_wallet_pass.context import Wallet
from nujoomy_wallet_pass.db.programs import program_row
from nujoomy_wallet_pass.db.queries import card_generation
from nujoomy_wallet_pass.domain.errors import CardReplaced, InvalidDownloadLink
from nujoomy_wallet_pass.domain.links import Mode, google_object_id, read_download_link
from nujoomy_wallet_pass.google import save_url


class MemberLinks(msgspec.Struct, kw_only=True):
    card_url: str
    apple_pass_url: str
    google_save_url: str | None  # None when no Google issuer is configured


def links_to_card(  # noqa: PLR0917 - the download token's fields, in its order
    wallet: Wallet, tenant_id: uuid.UUID, mode: Mode, member_id: uuid.UUID, generation: int, token: str
) -> MemberLinks:
    """Every link to a member's card of that generation, for a download token already issued for it."""
    base = wallet.settings.public_url.rstrip("/")
    google = None
    if wallet.account is not None:
        object_id = google_object_id(wallet.settings.google_issuer_id, tenant_id, mode, member_id, generation)
        google = save_url(wallet.account, object_id)
    return MemberLinks(
        card_url=f"{base}/cards/{token}",
        apple_pass_url=f"{base}/apple/passes/{token}",
        google_save_url=google,
    )


# The page's words: the official button names stay as Apple and Google give them in each language.
_WORDS = {
    "en": ("Add your {name} card to your phone", "Add to Apple Wallet", "Save to Google Wallet"),
    "ar": ("أضف بطاقة {name} إلى هاتفك", "إضافة إلى Apple Wallet", "حفظ في Google Wallet"),
}

_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; padding: 2rem 1rem; text-align: center;
        background: {background}; color: {foreground}; min-height: 100vh; box-sizing: border-box; }}
a {{ display: block; max-width: 20rem; margin: 1rem auto; padding: 0.9rem; border-radius: 0.6rem;
     background: #000; color: #fff; text-decoration: none; font-weight: 600; }}
</style>
</head>
<body>
<h1>{title}</h1>
<a id="apple" href="{apple}">{apple_label}</a>
{google}
</body>
</html>
"""

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


def card_html(links: MemberLinks, program: Program | None) -> str:
    """The card page in the program's colours and the tenant's language (plain without a program)."""
    lang = "ar" if program is not None and program.tenant.locale.lower().startswith("ar") else "en"
    heading, apple_label, google_label = _WORDS[lang]
    name = ""
    background, foreground = "#FFFFFF", "#000000"
    if program is not None:
        name = program.wording.program_name or program.tenant.name
        # Colours are checked when the tenant saves them; checked again here as they go into CSS.
        if _COLOR.fullmatch(program.branding.background_color):
            background = program.branding.background_color
        if _COLOR.fullmatch(program.branding.foreground_color):
            foreground = program.branding.foreground_color
    title = heading.format(name=name).replace("  ", " ")
    google = ""
    if links.google_save_url:
        google = f'<a id="google" href="{html.escape(links.google_save_url)}">{google_label}</a>'
    return _PAGE.format(
        lang=lang,
        dir="rtl" if lang == "ar" else "ltr",
        title=html.escape(title),
        background=background,
        foreground=foreground,
        apple=html.escape(links.apple_pass_url),
        apple_label=apple_label,
        google=google,
    )


@get("/{token:str}", media_type=MediaType.HTML)
async def card_page(db: AsyncSession, wallet: Wallet, token: str) -> Response[str]:
    found = read_download_link(wallet.download_secret, token, int(time.time()))
    if found is None:
        raise InvalidDownloadLink
    # Not enrolled here yet is fine (links go out before the enrolment arrives); a reissued card's
    # old page is not: it would offer the old card's Google object.
    current = await card_generation(db, found.tenant_id, found.mode, found.member_id)
    if current is not None and current != found.generation:
        raise CardReplaced
    links = links_to_card(wallet, *found, token=token)
    program = await program_row(db, found.tenant_id, found.mode)
    page = card_html(links, program[0] if program is not None else None)
    # The page holds a live download link: not for shared caches or a later visitor's history.
    return Response(page, media_type=MediaType.HTML, headers={"Cache-Control": "private, no-store"})


def cards_router() -> Router:
    return Router(path="/cards", route_handlers=[card_page], include_in_schema=True)
