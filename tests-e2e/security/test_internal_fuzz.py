"""Schemathesis fuzzes the internal APIs of tenant, ledger, wallet-pass and notification from their own
OpenAPI documents, each service served alone over its real database, broker and Redis, with an
owner's staff token on /internal/v1 and /staff/v1 (the BFF's credential, which every role check
admits; test_internal_access.py proves who else is admitted where) and none on the tenant's public
/auth routes. Same checks as the partner API: no 5xx, every 4xx a problem with a `code`, every 2xx
body valid against its documented schema; credentials refused mid-run count as failures. Known ids
(a member, its card, a transaction, the program) are swapped into about half the examples so
handlers past validation run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest
import schemathesis
from nujoomy_kit.ids import encode_id
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .alone import build_alone
from .bff_stack import infra_settings
from .conftest import COFFEE
from .fuzzing import EXAMPLES, fuzz, seeded

# Four services, ~70 operations: two thirds of the partner fuzz's examples keep this file near a minute.
EXAMPLES_EACH = max(1, EXAMPLES * 2 // 3)


class Target(msgspec.Struct):
    url: str
    tenant: uuid.UUID
    seeds: dict[str, str]


async def _seed(service: str, url: str, tenant: uuid.UUID, tokens: TestTokens) -> dict[str, str]:
    if service != "ledger":
        return {}
    headers = tokens.headers(tokens.internal(tenant, mode="test", to="ledger"))
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        member = (await http.post("/internal/v1/members", json={"name": "Fuzz"}, headers=headers)).json()
        card = (await http.post(f"/internal/v1/members/{member['id']}/card", json={}, headers=headers)).json()
        earned = await http.post(
            f"/internal/v1/members/{member['id']}/earn",
            json={"points": 400, "idempotency_key": uuid.uuid4().hex},
            headers=headers,
        )
        assert earned.status_code == 200, earned.text
    txn = earned.json()["transaction"]["id"]
    return {
        "member_id": member["id"],
        "card_token": card.get("card_token") or card["token"],
        "txn_id": txn,
        "transaction_id": txn,
        "reward_id": encode_id("rwd", COFFEE),
    }


@pytest.fixture(params=["tenant", "ledger", "wallet-pass", "notification"])
async def target(
    request: pytest.FixtureRequest,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
    tmp_path: Path,
) -> AsyncIterator[tuple[str, Target]]:
    service: str = request.param
    common = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    app, tenant, _ = await build_alone(service, common, make_db, tokens, tmp_path)
    async with served(app) as url:
        yield service, Target(url, tenant, await _seed(service, url, tenant, tokens))


def _fuzz(target: Target, tokens: TestTokens) -> dict[str, int]:
    document = httpx.get(f"{target.url}/schema/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    seen: dict[str, int] = {}
    owner = tokens.headers(tokens.staff(target.tenant, role="owner"), mode="test")
    # (paths, credentials, statuses that would mean the credentials stopped working)
    parts = [
        ("^/(internal|staff)/v1/", owner, (401, 403)),
        # the tenant's public sign-in routes: anyone may call them, and a wrong password is a 401
        ("^/auth/", {}, ()),
    ]
    for prefix, headers, refused in parts:
        # The suspended list answers internal tokens only (every verifier's own call).
        part = schema.include(path_regex=prefix).exclude(path_regex="/tenants/suspended")
        if not list(part.get_all_operations()):
            continue
        strategy = seeded(target.seeds)
        seen |= fuzz(part, target.url, headers, strategy=strategy, refused=refused, examples=EXAMPLES_EACH)
    return seen


async def test_the_internal_apis_survive_fuzzing(target: tuple[str, Target], tokens: TestTokens) -> None:
    service, running = target
    seen = await asyncio.to_thread(_fuzz, running, tokens)
    operations = {k.split(" ")[0] + " " + "/".join(k.split(" ")[1].split("/")[:4]) for k in seen}
    assert len(operations) >= 2, (service, seen)
    assert sum(seen.values()) >= 4 * EXAMPLES_EACH, (service, seen)
