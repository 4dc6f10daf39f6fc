"""Signing-key rotation seen from another service, and suspended tenants' tokens stopping."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import jwt
import msgspec
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import plain_url
from nujoomy_kit.resources import PLATFORM_TENANT, SUSPENDED_SCOPE
from nujoomy_kit.tokens import JwksCache, SuspendedTenants, TokenError, TokenVerifier
from nujoomy_tenant import cli
from nujoomy_tenant.app import build_app
from nujoomy_tenant.settings import Settings
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens
from tenant_helpers import PASSWORD, Business, bearer, login

Client = AsyncTestClient  # type: ignore[type-arg]


def verifier_over(
    client: Client,
    tokens: TestTokens | None = None,
    suspended_ttl: float | None = None,
    jwks_ttl: float = 300,
) -> TokenVerifier:
    """Another service's verifier: JWKS and the suspended list fetched from this app over HTTP."""

    async def jwks() -> dict[str, Any]:
        return (await client.get("/.well-known/jwks.json")).json()  # type: ignore[no-any-return]

    suspended = None
    if tokens is not None and suspended_ttl is not None:
        internal = tokens.internal(PLATFORM_TENANT, to="tenant", scopes=(SUSPENDED_SCOPE,))

        async def fetch() -> list[Any]:
            response = await client.get("/internal/v1/tenants/suspended", headers=bearer(internal))
            response.raise_for_status()
            return [uuid.UUID(t) for t in response.json()["tenant_ids"]]

        suspended = SuspendedTenants(fetch, ttl=suspended_ttl)
    return TokenVerifier(
        service="ledger", jwks=JwksCache(jwks, ttl=jwks_ttl, min_refresh=0), suspended=suspended
    )


async def kids(client: Client) -> list[str]:
    return [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]


async def test_rotation_publishes_two_keys_then_drops_the_old_one_after_the_overlap(
    client: Client, acme: Business, settings: Settings, db_url: str
) -> None:
    before = await login(client, "acme", acme.owner_email)
    # Verifiers keep the JWKS for their cache time; a short one here so the test need not wait 5 min.
    verifier = verifier_over(client, jwks_ttl=0.2)
    (old_kid,) = await kids(client)

    await cli.rotate_keys(settings)
    published = await kids(client)
    assert len(published) == 2
    assert old_kid in published
    after = await login(client, "acme", acme.owner_email)
    assert jwt_kid(after["access_token"]) != old_kid
    # During the overlap both the old and the new tokens verify elsewhere.
    assert (await verifier.verify(before["access_token"])).tenant_id == acme.tenant_id
    assert (await verifier.verify(after["access_token"])).tenant_id == acme.tenant_id

    # The overlap passes (the retirement moved back beyond it): the old key leaves the JWKS and a
    # token it signed is refused, even though that token has not expired.
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        await conn.execute(
            "UPDATE signing_keys SET retired_at = now() - make_interval(secs => $1) WHERE kid = $2",
            float(settings.key_overlap_seconds + 1),
            old_kid,
        )
    finally:
        await conn.close()
    assert await kids(client) == [jwt_kid(after["access_token"])]

    async def refused() -> str:
        try:
            await verifier.verify(before["access_token"])
        except TokenError as exc:
            return str(exc)
        return ""

    assert await eventually(refused, bool, timeout=5) == "unknown signing key"
    assert (await verifier.verify(after["access_token"])).tenant_id == acme.tenant_id

    # The next rotation deletes the long-retired key for good.
    lines = await cli.rotate_keys(settings)
    assert any(old_kid in line for line in lines)


def jwt_kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_a_suspended_tenants_tokens_stop_working_here_and_elsewhere(
    settings: Settings, acme: Business, globex: Business, tokens: TestTokens
) -> None:
    quick = msgspec.structs.replace(settings, suspended_cache_seconds=0.2)
    async with AsyncTestClient(app=build_app(quick)) as client:
        acme_session = await login(client, "acme", acme.owner_email)
        globex_session = await login(client, "globex", globex.owner_email)
        elsewhere = verifier_over(client, tokens, suspended_ttl=0.2)
        acme_auth = bearer(acme_session["access_token"])
        assert (await client.get("/internal/v1/program", headers=acme_auth)).status_code == 200
        await elsewhere.verify(acme_session["access_token"])

        assert await cli.set_status(quick, "acme", "suspended") == ["acme is now suspended."]

        async def program_status() -> int:
            return (await client.get("/internal/v1/program", headers=acme_auth)).status_code

        await eventually(program_status, lambda s: s == 401, timeout=5)

        async def refused_elsewhere() -> bool:
            try:
                await elsewhere.verify(acme_session["access_token"])
            except TokenError:
                return True
            return False

        await eventually(refused_elsewhere, bool, timeout=5)
        # Signing in and refreshing are refused too; another tenant is unaffected.
        login_again = await client.post(
            "/auth/login",
            json={"tenant": "acme", "email": acme.owner_email, "password": PASSWORD},
        )
        assert login_again.status_code == 403
        assert login_again.json()["code"] == "tenant_suspended"
        refresh = await client.post("/auth/refresh", json={"refresh_token": acme_session["refresh_token"]})
        assert refresh.status_code == 403
        assert (
            await client.get("/internal/v1/program", headers=bearer(globex_session["access_token"]))
        ).status_code == 200
        assert (await client.get("/internal/v1/tenants/by-slug/acme")).status_code == 404

        await cli.set_status(quick, "acme", "active")
        await eventually(program_status, lambda s: s == 200, timeout=5)


async def test_the_suspended_list_is_for_internal_tokens_only(client: Client, acme: Business) -> None:
    staff = await login(client, "acme", acme.owner_email)
    response = await client.get("/internal/v1/tenants/suspended", headers=bearer(staff["access_token"]))
    assert response.status_code == 403
    assert (await client.get("/internal/v1/tenants/suspended")).status_code == 401
