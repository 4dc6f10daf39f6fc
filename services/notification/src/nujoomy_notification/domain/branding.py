"""The business's look in what customers see (e-mail HTML, the unsubscribe page): colours and logo
from its program's branding, checked before they reach CSS or an <img>."""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ASSET = re.compile(r"^[A-Za-z0-9_-]{1,128}\.png$")


class Brand(msgspec.Struct, frozen=True, kw_only=True):
    background: str = "#1f2937"
    foreground: str = "#ffffff"
    label: str = "#e5e7eb"
    # The logo's asset file name; the gateway serves it publicly at /join-assets/{logo}.
    logo: str = ""


def colour(value: str | None, default: str) -> str:
    """Only `#RRGGBB` reaches a style attribute; anything else is the default."""
    return value if value and _COLOUR.match(value) else default


def logo_asset(images: Mapping[str, str]) -> str:
    """The tenant names its images by path (`/assets/<sha256>.png`); the gateway serves the file by
    name, as the join page does."""
    found = str(images.get("logo@2x") or images.get("logo") or "")
    name = found.rsplit("/", 1)[-1]
    if name and not name.endswith(".png"):
        name += ".png"
    return name if _ASSET.match(name) else ""


def brand_from(
    background: str | None, foreground: str | None, label: str | None, images: Mapping[str, str]
) -> Brand:
    defaults = Brand()
    return Brand(
        background=colour(background, defaults.background),
        foreground=colour(foreground, defaults.foreground),
        label=colour(label, defaults.label),
        logo=logo_asset(images),
    )


def logo_url(public_url: str, b: Brand) -> str:
    """An absolute URL a mail client can fetch (the platform's public URL, https in production)."""
    return f"{public_url.rstrip('/')}/join-assets/{b.logo}" if b.logo else ""


class Look(msgspec.Struct, kw_only=True):
    """How a message's HTML looks: the business's name, colours and logo (an absolute URL or "")."""

    name: str = ""
    brand: Brand = Brand()
    logo_url: str = ""


def look(name: str, b: Brand, public_url: str) -> Look:
    return Look(name=name, brand=b, logo_url=logo_url(public_url, b))
