"""Schemathesis fuzzes the partner API from its own OpenAPI document, served by a real gateway over
the real ledger and wallet-pass: valid and invalid inputs on every /v1 operation. Checks: no 5xx,
every 4xx is an RFC 9457 problem (application/problem+json with a stable `code`), and every 2xx
body matches its documented schema, the pass-through routes' included (the docs cannot drift). Example
counts are bounded (NUJOOMY_FUZZ_EXAMPLES, default 15 per operation and mode) to stay under a minute.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import schemathesis
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens
from schemathesis.generation import GenerationMode

from .conftest import Stack
from .fuzzing import EXAMPLES, fuzz


def _fuzz(base_url: str, api_key: str, member_id: str) -> dict[str, int]:
    document = httpx.get(f"{base_url}/schema/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document).include(path_regex="^/v1/")

    def strategy(operation: Any, mode: GenerationMode) -> Any:
        # Member routes aim at a member that exists, so the handlers past validation run too.
        ours = {"member_id": member_id} if "{member_id}" in operation.path else None
        return operation.as_strategy(generation_mode=mode, path_parameters=ours)

    return fuzz(
        schema,
        base_url,
        {"Authorization": f"Bearer {api_key}"},
        strategy=strategy,
        refused=(401, 403),
        skip_bare_strings=False,  # pass-through routes declare their bodies (api/responses.py)
    )


async def test_the_partner_api_survives_fuzzing(stack: Stack, tokens: TestTokens) -> None:
    from nujoomy_partner_gateway.app import build_app

    member = await stack.gateway.post(
        "/v1/members", json={"name": "Fuzz"}, headers={"Authorization": f"Bearer {stack.keys.owner}"}
    )
    member_id = member.json()["id"]
    async with served(build_app(stack.gateway_settings, verifier=tokens.verifier())) as url:
        seen = await asyncio.to_thread(_fuzz, url, stack.keys.owner, member_id)
    assert len(seen) >= 10, seen  # every /v1 operation was exercised
    assert sum(seen.values()) >= 10 * EXAMPLES


async def test_an_unparseable_webhook_url_is_a_problem(stack: Stack) -> None:
    # Found by the fuzz above (it was a 500 from urlsplit's ValueError and idna's UnicodeError).
    for url in ("https://\u009ahost.example/hook", "https://[/hook", "https://example.com:99999/hook"):
        response = await stack.gateway.post(
            "/v1/webhook_endpoints",
            json={"url": url},
            headers={"Authorization": f"Bearer {stack.keys.owner}"},
        )
        assert 400 <= response.status_code < 500, url


async def test_a_control_character_in_an_id_is_a_problem(stack: Stack) -> None:
    response = await stack.gateway.post(
        "/v1/transactions/txn_%07x/reverse", json={}, headers={"Authorization": f"Bearer {stack.keys.owner}"}
    )
    assert 400 <= response.status_code < 500


async def test_a_nul_byte_in_a_search_is_a_problem(stack: Stack) -> None:
    response = await stack.gateway.get(
        "/v1/members",
        params={"email": "a\x00b@example.com"},
        headers={"Authorization": f"Bearer {stack.keys.owner}"},
    )
    assert 400 <= response.status_code < 500
