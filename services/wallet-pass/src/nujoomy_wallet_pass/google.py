"""Google Wallet over REST (walletobjects v1): a service-account OAuth2 token (JWT-bearer grant,
cached until shortly before it expires), loyalty classes and objects, and skinny Save JWTs."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import structlog

from nujoomy_wallet_pass.domain.backoff import retry_delay

SAVE_URL = "https://pay.google.com/gp/v/save/"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
MAX_SAVE_URL_JWT = 1800  # Google: a JWT in a web link must stay under 1,800 characters

log = structlog.get_logger("nujoomy.wallet.google")


@dataclass(frozen=True)
class ServiceAccount:
    email: str
    private_key_id: str
    private_key: str  # PEM

    @classmethod
    def load(cls, value: str) -> ServiceAccount:
        raw = value if value.lstrip().startswith("{") else Path(value).read_text()
        data = json.loads(raw)
        return cls(data["client_email"], data["private_key_id"], data["private_key"])


def save_jwt(account: ServiceAccount, object_id: str, origins: list[str] | None = None) -> str:
    """A skinny Save JWT: the object already exists at Google (or will, by the time it is used), so
    the token carries only its id and stays far below the link limit."""
    claims: dict[str, Any] = {
        "iss": account.email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(time.time()),
        "origins": origins or [],
        "payload": {"loyaltyObjects": [{"id": object_id}]},
    }
    token = jwt.encode(
        claims, account.private_key, algorithm="RS256", headers={"kid": account.private_key_id}
    )
    if len(token) > MAX_SAVE_URL_JWT:
        raise ValueError("save JWT longer than Google accepts in a link")
    return token


def save_url(account: ServiceAccount, object_id: str, origins: list[str] | None = None) -> str:
    return SAVE_URL + save_jwt(account, object_id, origins)


class GoogleError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"Google Wallet answered {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class GoogleClient:
    base_url: str
    token_url: str
    account: ServiceAccount
    max_attempts: int = 5
    _http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=15))
    _token: str = ""
    _token_expires: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def token(self) -> str:
        # Renew a minute early so a request never carries a token that expires in flight.
        if self._token and time.time() < self._token_expires - 60:
            return self._token
        async with self._lock:
            if self._token and time.time() < self._token_expires - 60:
                return self._token
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self.account.email,
                    "scope": SCOPE,
                    "aud": TOKEN_AUDIENCE,
                    "iat": now,
                    "exp": now + 3600,
                },
                self.account.private_key,
                algorithm="RS256",
                headers={"kid": self.account.private_key_id},
            )
            response = await self._http.post(
                self.token_url,
                data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
            )
            if response.status_code != 200:
                raise GoogleError(response.status_code, response.text)
            body = response.json()
            self._token = body["access_token"]
            self._token_expires = time.time() + float(body.get("expires_in", 3600))
            return self._token

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """One REST call; 429 and 5xx are retried with backoff, anything else is the caller's answer."""
        for attempt in range(1, self.max_attempts + 1):
            token = await self.token()
            response = await self._http.request(
                method, f"{self.base_url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            if response.status_code == 401:
                self._token = ""  # revoked or expired early: get a new one and try again
                continue
            if response.status_code == 429 or response.status_code >= 500:
                retry_after = response.headers.get("retry-after")
                delay = retry_delay(attempt, retry_after=float(retry_after) if retry_after else None)
                log.warning("google_retry", status=response.status_code, path=path, in_seconds=delay)
                await asyncio.sleep(delay)
                continue
            return response
        return response

    async def upsert(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """Insert the resource; when Google already has it (409), PATCH it to this state instead."""
        response = await self.call("POST", f"/{resource}", body)
        if response.status_code == 409:
            response = await self.call("PATCH", f"/{resource}/{body['id']}", body)
        if response.status_code >= 300:
            raise GoogleError(response.status_code, _json(response))
        return _json(response)  # type: ignore[no-any-return]

    async def patch(self, resource: str, resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.call("PATCH", f"/{resource}/{resource_id}", body)
        if response.status_code >= 300:
            raise GoogleError(response.status_code, _json(response))
        return _json(response)  # type: ignore[no-any-return]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
