"""Replays: the same idempotency key with the same request returns the original result; with a
different request it is a conflict that names the first field that differs: its name only, never
the values (the first request's values are not the caller's to read back)."""

from __future__ import annotations

from collections.abc import Mapping

from nujoomy_ledger.domain.errors import IdempotencyConflict

Fingerprint = Mapping[str, object]


def first_difference(original: Fingerprint, request: Fingerprint) -> str | None:
    # `kind` first: a redeem replayed as an earn is the most telling difference to name.
    for field in sorted(set(original) | set(request), key=lambda f: (f != "kind", f)):
        if original.get(field) != request.get(field):
            return field
    return None


def check_replay(original: Fingerprint, request: Fingerprint) -> None:
    field = first_difference(original, request)
    if field is not None:
        raise IdempotencyConflict(
            f"This idempotency key was used for a request with a different {field}",
            field=field,
        )
