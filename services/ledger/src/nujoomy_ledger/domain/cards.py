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


# What the pass prints under the QR for people to read: the token's last 8 characters
# (wallet-pass: passjson altText, Google alternateText). 40 bits, so within one business it names a
# card almost always; when two active cards share it the lookup says so instead of guessing.
PRINTED_LENGTH = 8
# Characters people type for one another. The token alphabet (RFC 4648 base32) has no 0, 1 or 8, so
# those always mean O, I and B; I and L are both in it, so the match treats them as one letter.
_FORGIVEN = str.maketrans({"0": "O", "1": "I", "L": "I", "8": "B"})
_FOLDED = re.compile(r"^[A-KM-Z2-7]{8}$")
_SEPARATORS = re.compile(r"[\s\-_.]")


def printed_code(token: str) -> str:
    return token[-PRINTED_LENGTH:]


def fold_printed(typed: str) -> str | None:
    """The typed code as the index holds it (upper case, I for I/L/1, O for 0, B for 8), or None
    when it cannot be a printed code (wrong length, a character outside the alphabet)."""
    folded = _SEPARATORS.sub("", typed).upper().translate(_FORGIVEN)
    return folded if _FOLDED.match(folded) else None
