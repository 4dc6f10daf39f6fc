"""RFC 9457 problem details with a stable machine-readable `code`.

Domain code raises `DomainError` subclasses; `exception_handlers()` maps them, Litestar's own HTTP
and validation errors, and anything unexpected to `application/problem+json`, once per app.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from nujoomy_kit.db_errors import database_unavailable, sqlstate

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://docs.nujoomy.dev/problems/"

log = structlog.get_logger("nujoomy.problems")


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
    extra: dict[str, Any] | None = None


class DomainError(Exception):
    """Base of every expected failure. Subclasses set `code`, `status` and `title`."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra

    def problem(self, instance: str | None = None) -> Problem:
        return Problem(
            type=TYPE_BASE + self.code,
            title=self.title,
            status=self.status,
            code=self.code,
            detail=self.detail,
            instance=instance,
            extra=self.extra or None,
        )


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "Conflict"


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    title = "Invalid input"


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    title = "Not authenticated"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[bytes]:
    body = msgspec.json.encode(_flatten(problem))
    return Response(
        content=body, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers or {}
    )


def _flatten(problem: Problem) -> dict[str, Any]:
    # RFC 9457 §3.2: extension members sit at the top level of the object.
    data = msgspec.to_builtins(problem)
    extra = data.pop("extra", None) or {}
    for key, value in extra.items():
        data.setdefault(key, value)
    return data  # type: ignore[no-any-return]


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("invalid_input", "Invalid input"),
    429: ("rate_limited", "Too many requests"),
    503: ("unavailable", "Service unavailable"),
}


def _domain_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    headers = getattr(exc, "headers", None)
    return problem_response(exc.problem(instance=request.url.path), headers=headers)


def _validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    detail = exc.detail or "The request is not valid"
    if errors:
        detail = (
            "; ".join(f"{e.get('key') or 'body'}: {e.get('message')}" for e in errors if isinstance(e, dict))
            or detail
        )
    return problem_response(
        Problem(
            type=TYPE_BASE + "invalid_input",
            title="Invalid input",
            status=422 if errors else 400,
            code="invalid_input",
            detail=detail,
            instance=request.url.path,
            errors=errors,
        )
    )


def _http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    code, title = _HTTP_CODES.get(status, ("http_error", "HTTP error"))
    if isinstance(exc, NotAuthorizedException):
        code, title = "unauthorized", "Not authenticated"
    elif isinstance(exc, PermissionDeniedException):
        code, title = "forbidden", "Forbidden"
    elif isinstance(exc, NotFoundException):
        code, title = "not_found", "Not found"
    detail = exc.detail if exc.detail and exc.detail != title else None
    return problem_response(
        Problem(
            type=TYPE_BASE + code,
            title=title,
            status=status,
            code=code,
            detail=detail,
            instance=request.url.path,
        ),
        headers=dict(exc.headers or {}),
    )


def _internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if database_unavailable(exc):
        log.warning("database_unavailable", path=request.url.path, error=repr(exc))
        return problem_response(
            Problem(
                type=TYPE_BASE + "database_unavailable",
                title="Service temporarily unavailable",
                status=503,
                code="database_unavailable",
                detail="The database cannot be reached now; retry shortly with the same Idempotency-Key.",
                instance=request.url.path,
            ),
            headers={"Retry-After": "1"},
        )
    state = sqlstate(exc)
    if state is not None and state.startswith("22"):
        # SQLSTATE class 22 is "data exception": the client sent a value PostgreSQL cannot hold (a NUL
        # byte in text, a number out of range). That is bad input, not a server fault.
        return problem_response(
            Problem(
                type=TYPE_BASE + "invalid_input",
                title="Invalid input",
                status=422,
                code="invalid_input",
                detail="A value in the request cannot be stored (e.g. a NUL byte, an out-of-range number).",
                instance=request.url.path,
            )
        )
    log.exception("unhandled_error", path=request.url.path, error=repr(exc))
    return problem_response(
        Problem(
            type=TYPE_BASE + "internal_error",
            title="Internal error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            code="internal_error",
            detail="An unexpected error occurred; it has been logged.",
            instance=request.url.path,
        )
    )


def _recursion_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[bytes]:
    # msgspec gives up on a body nested deeper than the interpreter's recursion limit: that is the
    # client's bad input (a 400), not our failure. Any other RecursionError is still a 500.
    if "deserializing" not in str(exc):
        return _internal_handler(request, exc)
    return _unreadable_body(request, "The JSON body is nested too deeply")


def _unreadable_body(request: Request[Any, Any, Any], detail: str) -> Response[bytes]:
    return problem_response(
        Problem(
            type=TYPE_BASE + "invalid_input",
            title="Invalid input",
            status=400,
            code="invalid_input",
            detail=detail,
            instance=request.url.path,
        )
    )


def _unicode_handler(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[bytes]:
    # Litestar decodes a JSON body's strings as UTF-8 and lets the error escape: bytes that are not
    # UTF-8 are the client's bad input (a 400), not our failure. Raised anywhere else, it is ours.
    if not _raised_reading_the_request(exc):
        return _internal_handler(request, exc)
    return _unreadable_body(request, "The request body is not valid UTF-8")


def _raised_reading_the_request(exc: BaseException) -> bool:
    traceback = exc.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename.replace("\\", "/")
        if "litestar/connection/" in filename or "litestar/_kwargs/" in filename:
            return True
        traceback = traceback.tb_next
    return False


def exception_handlers() -> dict[type[Exception] | int, Any]:
    return {
        DomainError: _domain_handler,
        ValidationException: _validation_handler,
        HTTPException: _http_handler,
        RecursionError: _recursion_handler,
        UnicodeDecodeError: _unicode_handler,
        Exception: _internal_handler,
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "MediaType",
    "NotFound",
    "Problem",
    "Unauthorized",
    "exception_handlers",
    "problem_response",
]
