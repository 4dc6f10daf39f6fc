"""How long to wait before trying an outside service again."""

from __future__ import annotations


def retry_delay(
    attempt: int, base: float = 0.2, cap: float = 30.0, retry_after: float | None = None
) -> float:
    """Exponential backoff from `base`, capped; a server's Retry-After wins when it is longer."""
    delay: float = min(cap, base * 2.0 ** max(attempt - 1, 0))
    if retry_after is not None:
        return max(delay, min(float(retry_after), cap))
    return delay


def apns_retryable(status: int) -> bool:
    # Apple: do not retry 400/403/410 (bad token, certificate, unregistered); 429 and 5xx may be.
    return status == 429 or status >= 500
