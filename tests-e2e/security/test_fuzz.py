"""Schemathesis fuzzes the partner API from its own OpenAPI document, served by a real gateway over
the real ledger and wallet-pass: valid and invalid inputs on every /v1 operation. Checks: no 5xx,
and every 4xx is an RFC 9457 problem (application/problem+json with a stable `code`). Example
counts are bounded (NUJOOMY_FUZZ_EXAMPLES, default 15 per operation and mode) to stay under a minute.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import hypothesis
import hypothesis.errors
import schemathesis
from hypothesis import HealthCheck
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from .conftest import Stack

EXAMPLES = int(os.environ.get("NUJOOMY_FUZZ_EXAMPLES", "15"))


def _fuzz(base_url: str, api_key: str, member_id: str) -> dict[str, int]:
    document = httpx.get(f"{base_url}/schema/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document).include(path_regex="^/v1/")
    seen: dict[str, int] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Member routes aim at a member that exists, so the handlers past validation run too.
            ours = {"member_id": member_id} if "{member_id}" in operation.path else None

            @hypothesis.given(case=operation.as_strategy(generation_mode=mode, path_parameters=ours))
            @hypothesis.settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                response = case.call(
                    base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=15
                )
                key = f"{case.method.upper()} {case.path}"
                seen[key] = seen.get(key, 0) + 1
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except Exception as exc:
                    failures.append(f"{key}: {type(exc).__name__}: {str(exc)[:300]}")
                    return
                if 400 <= response.status_code < 500:
                    content_type = (response.headers.get("content-type") or [""])[0]
                    body = response.json() if "json" in content_type else {}
                    if not content_type.startswith("application/problem+json") or "code" not in body:
                        failures.append(f"{key}: {response.status_code} {content_type} {response.text[:200]}")

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # Schemathesis found no input violating this operation's schema (a free-form string
                # id, no parameters): nothing negative to send.
                assert mode is GenerationMode.NEGATIVE, label
            except Exception as exc:  # hypothesis re-raises a failing call: record it, fuzz on
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:600]}")
    assert not failures, "\n".join(failures[:20])
    return seen


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
