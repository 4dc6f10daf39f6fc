"""The partner API's OpenAPI document says what every /v1 route
answers: no 2xx body documented as a bare string, an example for each that meets its own schema,
and the tenant service's real program answer meets the documented one (the partner fuzz,
tests-e2e/security/test_fuzz.py, holds the other routes' real answers to theirs)."""

from __future__ import annotations

from typing import Any

import msgspec
from jsonschema import Draft202012Validator
from litestar.testing import AsyncTestClient
from nujoomy_messaging import Topology
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .conftest import Client, bearer
from .ledger_stack import TENANT_MIGRATIONS

# The routes whose handlers pass a sibling service's bytes on (Response[bytes]).
PASS_THROUGH = {
    ("get", "/v1/events"),
    ("get", "/v1/events/{event_id}"),
    ("get", "/v1/program"),
    ("get", "/v1/rewards"),
    ("get", "/v1/members"),
    ("post", "/v1/members"),
    ("get", "/v1/members/{member_id}"),
    ("post", "/v1/members/{member_id}/earn"),
    ("post", "/v1/members/{member_id}/redeem"),
    ("post", "/v1/transactions/{transaction_id}/reverse"),
    ("get", "/v1/members/{member_id}/transactions"),
}


def success_bodies(document: dict[str, Any], method: str, path: str) -> list[dict[str, Any]]:
    """The media-type objects of an operation's 2xx answers."""
    responses = document["paths"][path][method]["responses"]
    return [
        media
        for status, response in responses.items()
        if status.startswith("2")
        for media in (response.get("content") or {}).values()
    ]


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; $refs point into the document's components.
    return Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


async def test_every_v1_operation_documents_its_answer_with_an_example(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = {
        (method, path)
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method in item
    }
    assert PASS_THROUGH.issubset(operations), PASS_THROUGH - operations
    for method, path in sorted(operations):
        bodies = success_bodies(document, method, path)
        assert bodies or (method, path) not in PASS_THROUGH, (method, path)
        for media in bodies:  # (none for a 204)
            assert media["schema"] != {"type": "string"}, (method, path)
            examples = media.get("examples") or {}
            assert examples, (method, path)
            for example in examples.values():
                errors = list(validator(document, media["schema"]).iter_errors(example["value"]))
                assert not errors, (method, path, [e.message for e in errors])


async def test_the_real_program_meets_its_documented_schema(
    settings: Settings,
    tokens: TestTokens,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
) -> None:
    # The partner fuzz's stack has no tenant row, so GET /v1/program is held to its schema here.
    from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
    from nujoomy_tenant import provisioning
    from nujoomy_tenant.app import build_app as build_tenant
    from nujoomy_tenant.settings import load as load_tenant

    tenant_db = await make_db("tenant", TENANT_MIGRATIONS)
    engine = make_engine(tenant_db, pool_size=1)
    new = provisioning.NewTenant(slug="doc-cafe", name="Doc Cafe", owner_email="o@doc.test")
    async with transaction(make_sessionmaker(engine)) as db:
        created = await provisioning.create_tenant(db, new, invite_ttl=3600)
    await engine.dispose()
    tenant_settings = load_tenant(
        {},
        database_url=tenant_db,
        amqp_url=amqp_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix + "tenant:",
        events_exchange=topology.exchange,
        queue_prefix=topology.prefix,
        internal_keyset=tokens.keyset,
    )
    async with served(build_tenant(tenant_settings)) as tenant_url:
        routed = msgspec.structs.replace(settings, tenant_url=tenant_url)
        async with AsyncTestClient(app=build_app(routed, verifier=tokens.verifier())) as client:
            staff = tokens.headers(tokens.staff(created.tenant_id, role="owner"), mode="test")
            key = (await client.post("/internal/v1/api_keys", json={"name": "k"}, headers=staff)).json()
            answer = await client.get("/v1/program", headers=bearer(key["secret"]))
            document = (await client.get("/schema/openapi.json")).json()
    assert answer.status_code == 200, answer.text
    [media] = success_bodies(document, "get", "/v1/program")
    errors = list(validator(document, media["schema"]).iter_errors(answer.json()))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
