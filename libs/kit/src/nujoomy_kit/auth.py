"""Litestar glue for tokens: a `principal` dependency and guards that state what a handler needs.

Mode for a staff session comes from the `Nujoomy-Mode` header (the dashboard's live/test switch);
an internal token carries its mode and cannot be overridden.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from nujoomy_kit.problems import Forbidden, Unauthorized
from nujoomy_kit.tokens import Mode, Principal, Role, TokenError, TokenVerifier

MODE_HEADER = "nujoomy-mode"


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    cached = connection.scope.get("nujoomy_principal")  # type: ignore[typeddict-item]
    if cached is not None:
        assert isinstance(cached, Principal)
        return cached
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer token is required")
    verifier: TokenVerifier = connection.app.state["token_verifier"]
    try:
        principal = await verifier.verify(token.strip())
    except TokenError as exc:
        raise Unauthorized(str(exc)) from exc
    if principal.mode is None:
        requested = connection.headers.get(MODE_HEADER, "live").lower()
        if requested not in ("live", "test"):
            raise Unauthorized("Nujoomy-Mode must be live or test")
        mode: Mode = "live" if requested == "live" else "test"
        principal = Principal(
            kind=principal.kind,
            tenant_id=principal.tenant_id,
            mode=mode,
            staff_id=principal.staff_id,
            role=principal.role,
            key_id=principal.key_id,
            scopes=principal.scopes,
            subject=principal.subject,
        )
    connection.scope["nujoomy_principal"] = principal  # type: ignore[typeddict-unknown-key]
    from nujoomy_kit.logging import bind_context

    bind_context(tenant_id=str(principal.tenant_id), mode=principal.mode)
    return principal


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return await authenticate(request)


def grants(scopes: tuple[str, ...], needed: str) -> bool:
    """Whether a token's scopes cover `needed` (`<resource>:<action>`). A partner key's broad scopes
    (`read`, `write`) cover that action on every resource the partner API reaches; the platform's own
    calls carry exactly the scope they use (the join page: `members:write`)."""
    return needed in scopes or needed.rpartition(":")[2] in scopes


def check_access(principal: Principal, minimum: Role, scope: str | None) -> None:
    """A staff session (or an internal token acting for a staff member) needs the role; an internal
    token on the platform's or a partner's behalf needs the route's scope. A route with no scope is
    open to staff roles only — the same rule the dashboard applies (docs/internal-api.md)."""
    if principal.role is not None:
        if not principal.has_role(minimum):
            raise Forbidden(f"This needs the {minimum} role or above")
        return
    if principal.kind != "internal" or scope is None:
        raise Forbidden(f"This needs a staff session with the {minimum} role or above")
    if not grants(principal.scopes, scope):
        raise Forbidden(f"This needs the {scope} scope")


def require_role(minimum: Role, scope: str | None = None) -> Any:
    """Guard: a staff role of at least `minimum`, or an internal token carrying `scope`."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        check_access(await authenticate(connection), minimum, scope)

    return guard


def require_internal(scope: str) -> Any:
    """Guard: an internal token with `scope` (a route no staff session may call)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if principal.kind != "internal":
            raise Forbidden("This route is internal")
        if not grants(principal.scopes, scope):
            raise Forbidden(f"This needs the {scope} scope")

    return guard


async def require_authenticated(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    await authenticate(connection)
