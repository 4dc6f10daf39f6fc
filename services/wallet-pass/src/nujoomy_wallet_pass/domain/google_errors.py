"""What a Google Wallet error means for the job that got it.

Google answers `{"error": {"code", "message", "status", "errors": [{"reason", "domain", "message"}]}}`.
Quota exhaustion is 429 `RESOURCE_EXHAUSTED` (reasons `rateLimitExceeded`, `userRateLimitExceeded`,
`quotaExceeded`, sometimes on a 403); 5xx and `backendError` are transient; other 4xx (invalid
resource, permission) do not get better by retrying. A missing class (`classNotFound`) does, once
the class is sent again: the sync sends it and retries the object at once, and if Google still says
so the job is kept and retried rather than ended.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

_QUOTA_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


class GoogleOutcome(Enum):
    QUOTA = "quota"  # slow every replica down, then retry
    RETRY = "retry"  # transient: retry this job with backoff
    FINAL = "final"  # refused: stop the job in its terminal state


def google_outcome(status: int, body: Any) -> GoogleOutcome:
    error = body.get("error") if isinstance(body, dict) else None
    details = error if isinstance(error, dict) else {}
    reasons = {str(e.get("reason", "")) for e in details.get("errors", []) if isinstance(e, dict)}
    if status == 429 or details.get("status") == "RESOURCE_EXHAUSTED" or reasons & _QUOTA_REASONS:
        return GoogleOutcome.QUOTA
    if status >= 500 or status in (401, 408) or reasons & {"backendError", "classNotFound"}:
        return GoogleOutcome.RETRY  # 401: the token was refused; the client fetches a new one
    return GoogleOutcome.FINAL
