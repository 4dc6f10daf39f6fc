"""Guards for partner routes: the API key must carry the scope the call needs."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from nujoomy_kit.auth import authenticate

from nujoomy_partner_gateway.domain.errors import InsufficientScope


def require_scope(scope: str) -> Any:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if scope not in principal.scopes:
            raise InsufficientScope(f"This call needs the `{scope}` scope")

    return guard


READ = [require_scope("read")]
WRITE = [require_scope("write")]
WEBHOOKS = [require_scope("webhooks")]
