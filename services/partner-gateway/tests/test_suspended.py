"""A suspended tenant's API keys stop working on every /v1 route: the gateway's own (webhook
endpoints, replay, events) with the answer the proxied routes give (the platform's services refuse
a suspended tenant's internal tokens: 401 `unauthorized`, "tenant suspended")."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from nujoomy_kit.tokens import JwksCache, SuspendedTenants, TokenVerifier
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.tokens import TestTokens

from .conftest import bearer, listening


async def test_a_suspended_tenants_keys_are_refused_on_the_gateways_own_routes(
    settings: Settings, tokens: TestTokens, tenant: uuid.UUID
) -> None:
    suspended: set[uuid.UUID] = set()

    async def fetch_suspended() -> set[uuid.UUID]:
        return set(suspended)

    async def fetch_jwks() -> dict[str, Any]:
        return tokens.jwks()

    verifier = TokenVerifier(
        service="partner-gateway",
        callers={caller: [pem] for caller, pem in tokens.public_pems.items()},
        jwks=JwksCache(fetch_jwks),
        suspended=SuspendedTenants(fetch_suspended, ttl=0),
    )
    async with AsyncTestClient(app=build_app(settings, verifier=verifier)) as client:
        await listening(client)
        manager = tokens.headers(tokens.staff(tenant, role="manager"), mode="test")
        key = (await client.post("/internal/v1/api_keys", json={"name": "pos"}, headers=manager)).json()[
            "secret"
        ]
        endpoint = await client.post(
            "/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/h"}, headers=bearer(key)
        )
        assert endpoint.status_code == 201
        we = endpoint.json()["id"]
        assert (await client.get("/v1/events", headers=bearer(key))).status_code == 200

        suspended.add(tenant)
        calls = [
            ("GET", "/v1/events", None),
            ("GET", "/v1/webhook_endpoints", None),
            ("POST", "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/other"}),
            ("POST", f"/v1/webhook_endpoints/{we}/test", None),
            ("POST", f"/v1/webhook_endpoints/{we}/replay", {"since": "2026-01-01T00:00:00Z"}),
            ("DELETE", f"/v1/webhook_endpoints/{we}", None),
            ("GET", "/v1/program", None),  # a proxied route: the same answer
        ]
        for method, path, body in calls:
            refused = await client.request(method, path, json=body, headers=bearer(key))
            assert refused.status_code == 401, (method, path, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert (refused.json()["code"], refused.json()["detail"]) == ("unauthorized", "tenant suspended")

        suspended.discard(tenant)  # reactivated: the same key works again
        assert (await client.get("/v1/webhook_endpoints", headers=bearer(key))).status_code == 200
