"""Calls from the gateway to the platform's internal APIs (docs/internal-api.md).

One pooled httpx client per service for the app's life (connection reuse is most of the gateway's
overhead budget); each call carries a short-lived internal token for the partner's (tenant, mode,
key, scopes). A downstream problem document is passed to the partner unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import structlog
from litestar import Response
from nujoomy_kit.problems import NotFound
from nujoomy_kit.tokens import InternalTokenIssuer, Principal

from nujoomy_partner_gateway.domain.errors import DownstreamUnavailable
from nujoomy_partner_gateway.settings import Settings

log = structlog.get_logger("nujoomy.gateway.downstream")


class Downstream:
    def __init__(self, settings: Settings, issuer: InternalTokenIssuer | None) -> None:
        timeout = httpx.Timeout(settings.downstream_timeout, connect=2.0)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits)
            for name, url in (
                ("ledger", settings.ledger_url),
                ("tenant", settings.tenant_url),
                ("wallet-pass", settings.wallet_pass_url),
            )
        }
        self._issuer = issuer
        # httpx logs every request at INFO; the gateway's own metrics and logs already cover them.
        logging.getLogger("httpx").setLevel(logging.WARNING)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        principal: Principal,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        if self._issuer is None:
            raise DownstreamUnavailable("The gateway has no internal signing key configured")
        assert principal.mode is not None
        token = self._issuer.issue(
            principal.tenant_id, principal.mode, key_id=principal.key_id, scopes=principal.scopes
        )
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        if any(c < " " or c == "\x7f" for c in path):
            # An id with a control character cannot exist; httpx would refuse the URL (a 500).
            raise NotFound("No such object")
        try:
            return await self._clients[service].request(
                method, path, json=json, params=clean, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            log.warning("downstream_failed", service=service, path=path, error=repr(exc))
            raise DownstreamUnavailable(f"The {service} service did not answer") from exc


def passthrough(response: httpx.Response) -> Response[bytes]:
    """The downstream answer as the partner's answer: status, body and content type unchanged."""
    return Response(
        content=response.content,
        status_code=response.status_code,
        media_type=response.headers.get("content-type", "application/json"),
    )
