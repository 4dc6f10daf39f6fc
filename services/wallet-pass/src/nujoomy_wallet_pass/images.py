"""Pass images: fetched once per branding version from the tenant service (content-addressed
/assets/{sha}.png), or plain defaults drawn in the branding colour when a tenant has none."""

from __future__ import annotations

import io
from functools import lru_cache

import httpx
from nujoomy_contracts.tenant import Branding
from PIL import Image

# Apple's variants (points x1/x2/x3): icon 29x29 is mandatory, logo up to 160x50, storeCard strip 375x123.
APPLE_VARIANTS = {
    "icon": (29, 29),
    "icon@2x": (58, 58),
    "icon@3x": (87, 87),
    "logo": (160, 50),
    "logo@2x": (320, 100),
    "logo@3x": (480, 150),
    "strip": (375, 123),
    "strip@2x": (750, 246),
    "strip@3x": (1125, 369),
}
REQUIRED = ("icon", "icon@2x", "icon@3x")


@lru_cache(maxsize=256)
def _solid(color: str, size: tuple[int, int]) -> bytes:
    value = int(color.lstrip("#")[:6] or "1F2937", 16)
    image = Image.new("RGB", size, (value >> 16, (value >> 8) & 0xFF, value & 0xFF))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def default_images(branding: Branding | None) -> dict[str, bytes]:
    color = branding.background_color if branding else "#1F2937"
    return {name: _solid(color, APPLE_VARIANTS[name]) for name in REQUIRED}


async def fetch_images(tenant_url: str, branding: Branding) -> dict[str, bytes]:
    """The tenant's images for this branding; the mandatory icons fall back to defaults."""
    images: dict[str, bytes] = {}
    wanted = {
        name: path
        for name, path in branding.images.items()
        if name in APPLE_VARIANTS or name == "google_logo"
    }
    if wanted:
        async with httpx.AsyncClient(base_url=tenant_url, timeout=10) as client:
            for name, path in wanted.items():
                response = await client.get(path)
                response.raise_for_status()  # a consumer retry fetches it again later
                images[name] = response.content
    for name, data in default_images(branding).items():
        images.setdefault(name, data)
    return images
