"""The BFF's expected failures, as problem+json with stable codes (pages render them as HTML)."""

from __future__ import annotations

from nujoomy_kit.problems import DomainError, Forbidden


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = "The form token is missing or does not match this session"


class SignInFailed(DomainError):
    code = "sign_in_failed"
    status = 401
    title = "The tenant, email or password is wrong"


class SignInRateLimited(DomainError):
    code = "too_many_attempts"
    status = 429
    title = "Too many sign-in attempts from this network"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Try again in {retry_after} seconds", retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class SignInUnavailable(DomainError):
    code = "login_unavailable"
    status = 503
    title = "Sign-in unavailable"

    def __init__(self) -> None:
        super().__init__("Sign-in is briefly unavailable; try again in a few seconds.")
        self.headers = {"Retry-After": "5"}


class BackendUnavailable(DomainError):
    code = "backend_unavailable"
    status = 503
    title = "A service behind the dashboard did not answer"


class BackendError(DomainError):
    """A sibling answered with a problem; its status and code pass through unchanged."""

    def __init__(self, status: int, code: str, title: str, detail: str | None, **extra: object) -> None:
        super().__init__(detail or title, **extra)
        self.status = status  # type: ignore[misc]
        self.code = code  # type: ignore[misc]
        self.title = title  # type: ignore[misc]


class JoinRejected(DomainError):
    code = "join_rejected"
    status = 400
    title = "This form could not be accepted; reload the page and try again"


class JoinRateLimited(DomainError):
    code = "rate_limited"
    status = 429
    title = "Too many sign-ups from this network; try again in a minute"

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class ApprovalRefused(Forbidden):
    code = "approval_refused"
    title = "The manager's email or password is wrong"
