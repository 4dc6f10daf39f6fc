"""The search key of a member's name: what staff type at the counter should find the member whatever
the accents, the case or the spacing ("jose" finds "José", "ELODIE" finds "Élodie")."""

from __future__ import annotations

import unicodedata


def name_key(name: str | None) -> str | None:
    """NFKD, combining marks dropped (Latin accents and Arabic harakat alike), casefolded, spaces
    collapsed. Stored beside the name so the prefix search is a plain btree range scan."""
    if name is None:
        return None
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = " ".join(bare.casefold().split())
    return folded or None


def like_prefix(text: str) -> str:
    """A LIKE pattern matching keys that start with `text`'s key (wildcards in it are literal)."""
    key = name_key(text) or ""
    return key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
