"""The tenant service on a real socket, and another service's verifier built exactly as in production
(`nujoomy_kit.resources.token_verifier`): JWKS and the suspended list both fetched over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import uvicorn
from nujoomy_kit.resources import token_verifier
from nujoomy_kit.tokens import TokenError
from nujoomy_tenant import cli
from nujoomy_tenant.app import build_app
from nujoomy_tenant.settings import Settings
from nujoomy_testing.tokens import TestTokens
from tenant_helpers import PASSWORD, Business


@pytest.fixture
async def tenant_url(settings: Settings) -> AsyncIterator[str]:
    app = build_app(msgspec.structs.replace(settings, suspended_cache_seconds=0.2))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # start-up is a state change with no event to await
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def test_another_service_verifies_staff_tokens_and_sees_suspensions_over_http(
    tenant_url: str, settings: Settings, acme: Business, tokens: TestTokens
) -> None:
    async with httpx.AsyncClient(base_url=tenant_url) as http:
        login = await http.post(
            "/auth/login", json={"tenant": "acme", "email": acme.owner_email, "password": PASSWORD}
        )
        assert login.status_code == 200
    access = login.json()["access_token"]

    # The ledger's (say) settings: where the tenant service is, and its own internal key pair.
    ledger_settings = msgspec.structs.replace(
        settings,
        tenant_url=tenant_url,
        internal_keyset=tokens.keyset,
        internal_private_key=tokens.private_pems["ledger"],
    )
    principal = await token_verifier(ledger_settings, "ledger").verify(access)
    assert principal.tenant_id == acme.tenant_id
    assert principal.role == "owner"

    await cli.set_status(settings, "acme", "suspended")
    # A verifier whose suspended list is fresh (one started now, or any one after its 30 s cache time,
    # as test_keys_and_suspension shows with a short cache) refuses the still-unexpired token.
    with pytest.raises(TokenError, match="tenant suspended"):
        await token_verifier(ledger_settings, "ledger").verify(access)
    await cli.set_status(settings, "acme", "active")
    assert (await token_verifier(ledger_settings, "ledger").verify(access)).tenant_id == acme.tenant_id
