"""Card tokens: the QR content. `NJ1-` + 26 base32 characters = 130 bits from the OS CSPRNG.

The prefix lets a scanner tell a Nujoomy card from any other barcode without a lookup; base32
(RFC 4648, no padding, upper case) survives keyboard-wedge scanners and case-folding inputs.
"""

from __future__ import annotations

import base64
import re
import secrets

PREFIX = "NJ1-"
_SHAPE = re.compile(r"^NJ1-[A-Z2-7]{26}$")


def new_card_token() -> str:
    raw = secrets.token_bytes(17)  # 136 bits; 26 base32 characters carry 130 of them
    return PREFIX + base64.b32encode(raw).decode("ascii").rstrip("=")[:26]


def looks_like_card(token: str) -> bool:
    return bool(_SHAPE.match(token))


def normalise(token: str) -> str:
    """Scanners in a lower-case keyboard layout send the token lower-cased."""
    return token.strip().upper()
