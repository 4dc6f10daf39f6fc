"""Calls from the gateway to the platform's internal APIs (docs/internal-api.md).

One pool of keep-alive HTTP/1.1 connections (http1.py) for the app's life — connection reuse and a
lean client are most of the gateway's overhead budget; each call carries a short-lived internal
token for the partner's (tenant, mode, key, scopes), minted once per (key, scopes) and reused for
half its life (nujoomy_kit.tokens). A downstream problem document is passed to the partner unchanged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import msgspec
import structlog
from litestar import Response
from nujoomy_kit.problems import NotFound
from nujoomy_kit.tokens import InternalTokenIssuer, Principal

from nujoomy_partner_gateway.domain.errors import DownstreamUnavailable
from nujoomy_partner_gateway.http1 import Answer, Http1Pool, Origin, SendError, host_header, request_bytes
from nujoomy_partner_gateway.settings import Settings

log = structlog.get_logger("nujoomy.gateway.downstream")


class DownstreamAnswer(msgspec.Struct, frozen=True):
    status_code: int
    content: bytes
    content_type: str

    def json(self) -> Any:
        return msgspec.json.decode(self.content)


class _Service(msgspec.Struct, frozen=True):
    origin: Origin
    host_header: bytes
    prefix: str  # the base URL's path, if it has one


def _service(url: str) -> _Service:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"A downstream URL must be http(s) with a host: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return _Service(
        origin=(parts.scheme, parts.hostname, port, parts.hostname),
        host_header=host_header(parts.scheme, parts.hostname, port),
        prefix=parts.path.rstrip("/"),
    )


class Downstream:
    def __init__(self, settings: Settings, issuer: InternalTokenIssuer | None) -> None:
        self._pool = Http1Pool(timeout=settings.downstream_timeout, connect_timeout=2.0)
        self._services = {
            name: _service(url)
            for name, url in (
                ("ledger", settings.ledger_url),
                ("tenant", settings.tenant_url),
                ("wallet-pass", settings.wallet_pass_url),
            )
        }
        self._issuer = issuer

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        principal: Principal,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> DownstreamAnswer:
        if self._issuer is None:
            raise DownstreamUnavailable("The gateway has no internal signing key configured")
        assert principal.mode is not None
        # Addressed to that service alone, carrying the partner key's scopes, which the callee checks.
        token = self._issuer.issue(
            principal.tenant_id, principal.mode, to=service, key_id=principal.key_id, scopes=principal.scopes
        )
        if any(c < " " or c == "\x7f" for c in path):
            # An id with a control character cannot exist (and must not reach a request line).
            raise NotFound("No such object")
        target = _target(self._services[service].prefix + path, params)
        headers = [("Authorization", f"Bearer {token}")]
        body = None
        if json is not None:
            body = msgspec.json.encode(json)
            headers.append(("Content-Type", "application/json"))
        downstream = self._services[service]
        request = request_bytes(method.encode(), target, downstream.host_header, headers, body)
        try:
            answer: Answer = await self._pool.request(downstream.origin, request)
        except SendError as exc:
            log.warning("downstream_failed", service=service, path=path, error=repr(exc))
            raise DownstreamUnavailable(f"The {service} service did not answer") from exc
        return DownstreamAnswer(answer.status, answer.body, answer.content_type or "application/json")


def _target(path: str, params: dict[str, Any] | None) -> bytes:
    """Path and query for the request line: the path percent-encoded (a partner's id can hold `?`,
    `#`, spaces or non-ASCII; none of it may change the URL's meaning), None parameters left out."""
    target = quote(path, safe="/")
    clean = {k: v for k, v in (params or {}).items() if v is not None}
    if clean:
        target += "?" + urlencode(clean, quote_via=quote)
    return target.encode("ascii")


def passthrough(response: DownstreamAnswer) -> Response[bytes]:
    """The downstream answer as the partner's answer: status, body and content type unchanged."""
    return Response(
        content=response.content, status_code=response.status_code, media_type=response.content_type
    )
