"""Calls from the BFF to the internal services (docs/internal-api.md), with the staff token and mode.

One pooled httpx client per app (created on first use: the gateway's build_app owns the lifespan),
short timeouts so a slow sibling turns into a clear "unavailable" instead of a hung page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import httpx
import msgspec
from litestar.datastructures import State
from nujoomy_kit.problems import NotFound
from nujoomy_kit.settings import ServiceSettings
from nujoomy_kit.tokens import InternalTokenIssuer, Mode

from nujoomy_partner_gateway.bff.config import web_settings
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable

Service = Literal["tenant", "ledger", "wallet_pass", "notification", "gateway"]


def http_client(state: State) -> httpx.AsyncClient:
    client = state.get("bff_http")
    if isinstance(client, httpx.AsyncClient) and not client.is_closed:
        return client
    timeout = web_settings(state).http_timeout
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        # Idle connections are dropped before the services' servers close them (uvicorn: 5 s), so a
        # request rarely lands on a connection the server is closing (see the retry in `call`).
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2.0),
    )
    state["bff_http"] = client
    return client


def self_client(app: Any) -> httpx.AsyncClient:
    """The gateway's own staff API (keys, webhooks), called in-process: same app, no network hop."""
    client = app.state.get("bff_self")
    if isinstance(client, httpx.AsyncClient) and not client.is_closed:
        return client
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=10.0
    )
    app.state["bff_self"] = client
    return client


def base_url(state: State, service: Service) -> str:
    settings: ServiceSettings = state["settings"]
    urls = {
        "tenant": settings.tenant_url,
        "ledger": settings.ledger_url,
        "wallet_pass": settings.wallet_pass_url,
        "notification": settings.notification_url,
        "gateway": settings.gateway_url,
    }
    return urls[service].rstrip("/")


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# The audience (tokens.audience) of each sibling an internal token is addressed to.
SERVICE_NAMES: dict[Service, str] = {
    "tenant": "tenant",
    "ledger": "ledger",
    "wallet_pass": "wallet-pass",
    "notification": "notification",
    "gateway": "partner-gateway",
}


class Backends:
    """The internal APIs as one caller: `await backends.get("ledger", "/internal/v1/members")`.

    Either with the staff member's own access token (the dashboard), or minting an internal token per
    sibling (`Backends.internal`: pages acting for the platform, such as the join page)."""

    def __init__(
        self,
        state: State,
        token: str | None = None,
        mode: str = "live",
        app: Any = None,
        mint: Callable[[Service], str] | None = None,
    ) -> None:
        self._state = state
        self._app = app
        self._token = token
        self._mode = mode
        self._mint = mint

    @classmethod
    def internal(cls, state: State, tenant_id: uuid.UUID, mode: Mode, scopes: tuple[str, ...]) -> Backends:
        """Calls on the platform's behalf for one tenant and mode, carrying exactly `scopes`."""
        issuer: InternalTokenIssuer = state["internal_issuer"]

        def mint(service: Service) -> str:
            return issuer.issue(tenant_id, mode, to=SERVICE_NAMES[service], scopes=scopes)

        return cls(state, None, mode, mint=mint)

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if not _plain_path(path):
            raise NotFound("No such resource")
        headers = {**(headers or {}), **self._headers(service, "application/json")}
        in_process = service == "gateway" and self._app is not None
        url = path if in_process else base_url(self._state, service) + path
        content = msgspec.json.encode(json) if json is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            client = self_client(self._app) if in_process else http_client(self._state)
            try:
                response = await client.request(method, url, content=content, params=clean, headers=headers)
            except httpx.RemoteProtocolError:
                # A kept-alive connection the server closed as we reused it: no answer came, so a read
                # is safe to send again on a fresh connection (writes are not: they surface as 503).
                if method not in _SAFE_METHODS:
                    raise
                response = await client.request(method, url, content=content, params=clean, headers=headers)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{service} did not answer: {type(exc).__name__} {exc!r}") from exc
        if response.status_code >= 400:
            raise problem_from(service, response)
        if not response.content:
            return None
        return msgspec.json.decode(response.content)

    def _headers(self, service: Service, accept: str) -> dict[str, str]:
        headers = {"Nujoomy-Mode": self._mode, "Accept": accept}
        token = self._mint(service) if self._mint is not None else self._token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def get(self, service: Service, path: str, **params: Any) -> Any:
        return await self.call(service, "GET", path, params=params)

    async def stream(self, service: Service, path: str, accept: str) -> AsyncIterator[bytes]:
        """A GET whose body is passed on as it arrives (the CSV exports). The status is checked before
        the first byte is handed over, so a refusal is still a problem answer, not a broken download."""
        if not _plain_path(path):
            raise NotFound("No such resource")
        client = http_client(self._state)
        url = base_url(self._state, service) + path
        request = client.build_request("GET", url, headers=self._headers(service, accept))
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{service} did not answer: {type(exc).__name__} {exc!r}") from exc
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise problem_from(service, response)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        return body()

    async def post(
        self, service: Service, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        return await self.call(service, "POST", path, json=body if body is not None else {}, headers=headers)

    async def patch(self, service: Service, path: str, body: Any) -> Any:
        return await self.call(service, "PATCH", path, json=body)

    async def delete(self, service: Service, path: str) -> Any:
        return await self.call(service, "DELETE", path)


# Ids from the browser are interpolated into these paths. Anything beyond plain id characters (a
# control character makes httpx raise InvalidURL, which is no HTTPError: a 500), or a dot segment
# that would climb to another route of the sibling, names no resource.
_PLAIN_PATH = re.compile(r"(/[A-Za-z0-9_\-.~:@=+,]*)*")


def _plain_path(path: str) -> bool:
    return bool(_PLAIN_PATH.fullmatch(path)) and not any(s in (".", "..") for s in path.split("/"))


def problem_from(service: Service, response: httpx.Response) -> Exception:
    if response.status_code >= 500 and response.status_code != 503:
        return BackendUnavailable(f"{service} failed with {response.status_code}")
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    extra = {k: v for k, v in body.items() if k not in ("type", "title", "status", "code", "detail")}
    extra.pop("instance", None)
    return BackendError(
        response.status_code,
        str(body.get("code") or "error"),
        str(body.get("title") or "Request failed"),
        body.get("detail"),
        **extra,
    )
