"""Schemathesis fuzzes the partner API from its own OpenAPI document, served by a real gateway over
the real ledger and wallet-pass: valid and invalid inputs on every /v1 operation. Checks: no 5xx,
every 4xx is an RFC 9457 problem (application/problem+json with a stable `code`), and every 2xx
body matches its documented schema, the pass-through routes' included (the docs cannot drift). Example
counts are bounded (NUJOOMY_FUZZ_EXAMPLES, default 15 per operation and mode) to stay under a minute.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import schemathesis
from nujoomy_contracts import new_envelope
from nujoomy_contracts.ledger import TRANSACTION_POSTED, TransactionPosted
from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_kit.db import transaction as transaction_scope
from nujoomy_kit.ids import decode_id, encode_id
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens
from schemathesis.generation import GenerationMode

from .conftest import Stack
from .fuzzing import EXAMPLES, fuzz


def _fuzz(base_url: str, api_key: str, seeds: dict[str, str]) -> dict[str, int]:
    document = httpx.get(f"{base_url}/schema/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document).include(path_regex="^/v1/")

    def strategy(operation: Any, mode: GenerationMode) -> Any:
        # Member, transaction and event routes aim at ones that exist, so the handlers past
        # validation run too and their 2xx answers meet the documented schemas.
        ours = {k: v for k, v in seeds.items() if f"{{{k}}}" in operation.path} or None
        return operation.as_strategy(generation_mode=mode, path_parameters=ours)

    return fuzz(
        schema,
        base_url,
        {"Authorization": f"Bearer {api_key}"},
        strategy=strategy,
        refused=(401, 403),
        skip_bare_strings=False,  # pass-through routes declare their bodies (api/responses.py)
    )


async def _record_event(stack: Stack, transaction: dict[str, Any]) -> str:
    """What the gateway worker does with the ledger's transaction.posted: an evt_ row."""
    from nujoomy_partner_gateway.events.consumers import fan_out

    posted = TransactionPosted(
        transaction_id=decode_id("txn", transaction["id"]),
        member_id=decode_id("mbr", transaction["member_id"]),
        kind=transaction["kind"],
        points=transaction["points"],
        balance_after=transaction["balance_after"],
        reference=transaction["reference"],
        posted_at=datetime.fromisoformat(transaction["created_at"]),
    )
    envelope = new_envelope(TRANSACTION_POSTED, posted, tenant_id=stack.tenant, mode="test")
    engine = make_engine(stack.gateway_settings.database_url, pool_size=1)
    try:
        async with transaction_scope(make_sessionmaker(engine)) as session:
            await fan_out(session, envelope)  # type: ignore[arg-type]
    finally:
        await engine.dispose()
    return encode_id("evt", envelope.id)


async def test_the_partner_api_survives_fuzzing(stack: Stack, tokens: TestTokens) -> None:
    from nujoomy_partner_gateway.app import build_app

    owner = {"Authorization": f"Bearer {stack.keys.owner}"}
    member = await stack.gateway.post("/v1/members", json={"name": "Fuzz"}, headers=owner)
    member_id = member.json()["id"]
    # enough points that generated redeems can succeed, and a transaction to reverse
    earned = await stack.gateway.post(
        f"/v1/members/{member_id}/earn", json={"points": 1_000_000}, headers=owner
    )
    assert earned.status_code == 200, earned.text
    seeds = {
        "member_id": member_id,
        "transaction_id": earned.json()["transaction"]["id"],
        "event_id": await _record_event(stack, earned.json()["transaction"]),
    }
    async with served(build_app(stack.gateway_settings, verifier=tokens.verifier())) as url:
        seen = await asyncio.to_thread(_fuzz, url, stack.keys.owner, seeds)
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
