"""Uploaded branding images: validation and the variants Apple and Google Wallet need, made once.

Apple (PassKit, store card): icon 29x29 pt, logo at most 160x50 pt, strip 375x123 pt, each at 1x, 2x
and 3x. Google: a program logo of 660x660 px that survives a circle mask, so the logo is fitted inside
the circle's inscribed square. Everything is re-encoded as PNG, which also strips metadata (EXIF GPS).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from nujoomy_tenant.domain.errors import ImageTooLarge, InvalidImage

Kind = Literal["logo", "strip"]
ALLOWED_FORMATS = ("PNG", "JPEG")
MIN_SIDE = 16
MAX_SIDE = 4096
GOOGLE_LOGO = 660
# The largest square inside a circle of diameter d has side d/√2; keep a little margin more.
GOOGLE_SAFE = int(GOOGLE_LOGO * 0.68)
SCALES = ((1, ""), (2, "@2x"), (3, "@3x"))
ICON_PT = 29
LOGO_MAX_PT = (160, 50)
STRIP_PT = (375, 123)

# Which variants each upload produces; a new logo replaces exactly these names in the branding.
VARIANTS: dict[Kind, tuple[str, ...]] = {
    "logo": (
        "icon",
        "icon@2x",
        "icon@3x",
        "logo",
        "logo@2x",
        "logo@3x",
        "google_logo",
    ),
    "strip": ("strip", "strip@2x", "strip@3x"),
}


def without(kind: Kind, images: dict[str, str]) -> dict[str, str]:
    """The branding's images minus everything one upload of `kind` put there (its variants and the
    original); what is left is what a card shows with no such image."""
    dropped = {*VARIANTS[kind], f"{kind}_original"}
    return {name: sha for name, sha in images.items() if name not in dropped}


class Png:
    __slots__ = ("data", "height", "sha256", "width")

    def __init__(self, data: bytes, width: int, height: int) -> None:
        self.data = data
        self.width = width
        self.height = height
        self.sha256 = hashlib.sha256(data).hexdigest()


def load(data: bytes, max_bytes: int) -> Image.Image:
    """Open an upload, trusting its bytes (magic numbers), not its declared content type."""
    if len(data) > max_bytes:
        raise ImageTooLarge(
            f"Images are at most {max_bytes // 1024} KiB; this one is {len(data) // 1024} KiB"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
            width, height = image.size
            if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                raise InvalidImage(f"Images are {MIN_SIDE} to {MAX_SIDE} pixels a side; got {width}x{height}")
            image.load()
    except (
        UnidentifiedImageError,
        OSError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise InvalidImage("The upload is not a readable PNG or JPEG image") from exc
    return ImageOps.exif_transpose(image).convert("RGBA")


def _png(image: Image.Image) -> Png:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return Png(buffer.getvalue(), image.width, image.height)


def _contain(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Scale to fit inside `box`, keeping proportions (upscaling small logos too, so 3x is sharp-ish)."""
    return ImageOps.contain(image, box, Image.Resampling.LANCZOS)


def _padded_square(image: Image.Image, side: int, inner: int) -> Image.Image:
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    fitted = _contain(image, (inner, inner))
    canvas.paste(fitted, ((side - fitted.width) // 2, (side - fitted.height) // 2), fitted)
    return canvas


def variants(image: Image.Image, kind: Kind) -> dict[str, Png]:
    out: dict[str, Png] = {}
    if kind == "logo":
        for scale, suffix in SCALES:
            out[f"icon{suffix}"] = _png(_padded_square(image, ICON_PT * scale, ICON_PT * scale))
            box = (LOGO_MAX_PT[0] * scale, LOGO_MAX_PT[1] * scale)
            out[f"logo{suffix}"] = _png(_contain(image, box))
        out["google_logo"] = _png(_padded_square(image, GOOGLE_LOGO, GOOGLE_SAFE))
    else:
        for scale, suffix in SCALES:
            size = (STRIP_PT[0] * scale, STRIP_PT[1] * scale)
            # A strip fills its area edge to edge: crop to the aspect ratio, centred.
            out[f"strip{suffix}"] = _png(ImageOps.fit(image, size, Image.Resampling.LANCZOS))
    return out


def process(data: bytes, kind: Kind, max_bytes: int) -> tuple[Png, dict[str, Png]]:
    """The normalised original and its variants (CPU-bound: call it in a thread)."""
    image = load(data, max_bytes)
    return _png(image), variants(image, kind)
