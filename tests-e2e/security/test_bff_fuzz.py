"""Schemathesis fuzzes the dashboard's JSON calls (/bff/*) from the OpenAPI document their handlers
generate, signed in as an owner through the real /app/login (session cookies + the CSRF header),
against the real tenant, ledger and wallet-pass. Checks: no 5xx (a sibling's 500 surfaces as a 503
here, so it is caught too), every 4xx an RFC 9457 problem with a stable `code`, every 2xx body valid
against its documented schema. Examples are bounded (NUJOOMY_FUZZ_EXAMPLES, default 15 per
operation and mode).

The /bff routes are kept out of the partner API's published document (they are the pages' own
calls), so the document is built here from the same handlers; a test below checks that it names
every /bff route the gateway serves, so a new route cannot escape the fuzz."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import uuid
from typing import Any

import httpx
import schemathesis
from litestar import Litestar
from nujoomy_kit.ids import encode_id

from .bff_stack import BffStack, Session, bff_stack  # noqa: F401  (the `bff` fixture)
from .fuzzing import EXAMPLES, fuzz, seeded


def bff_handlers() -> list[Any]:
    """Every JSON_ROUTES list of the bff package: the handlers behind /bff/*."""
    import nujoomy_partner_gateway.bff as package

    found: list[Any] = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found += getattr(module, "JSON_ROUTES", [])
    return found


def bff_document() -> dict[str, Any]:
    app = Litestar(route_handlers=bff_handlers())
    return app.openapi_schema.to_schema()


def _fuzz(base_url: str, session: Session, seeds: dict[str, str]) -> dict[str, int]:
    schema = schemathesis.openapi.from_dict(bff_document())
    return fuzz(schema, base_url, session.headers("test"), strategy=seeded(seeds), refused=(401, 403))


async def _seed(bff: BffStack) -> dict[str, str]:
    """A member with a card and a transaction in A's test mode, made through the BFF's own calls."""
    a = bff.a
    staff = {"Authorization": f"Bearer {a.access_token}", "Nujoomy-Mode": "test"}
    async with httpx.AsyncClient(timeout=30) as http:
        member = await http.post(
            f"{bff.ledger_url}/internal/v1/members", json={"name": "Fuzz"}, headers=staff
        )
        assert member.status_code == 201, member.text
        mid = member.json()["id"]
        card = await http.post(f"{bff.ledger_url}/internal/v1/members/{mid}/card", json={}, headers=staff)
        token = card.json().get("card_token") or card.json()["token"]
        earned = await http.post(
            f"{bff.gateway_url}/bff/scan/earn",
            json={"card_token": token, "points": 500, "idempotency_key": "seed-earn-1"},
            headers=a.headers("test"),
        )
        assert earned.status_code == 200, earned.text
        overview = await http.get(f"{bff.tenant_url}/internal/v1/program", headers=staff)
        program_id = encode_id("prg", uuid.UUID(str(overview.json()["program_id"])))
    return {
        "card_token": token,
        "transaction_id": earned.json()["transaction"]["id"],
        "program_id": program_id,
    }


async def test_the_bff_survives_fuzzing_signed_in_as_an_owner(bff: BffStack) -> None:
    seeds = await _seed(bff)
    seen = await asyncio.to_thread(_fuzz, bff.gateway_url, bff.a, seeds)
    assert len({k.split(" ")[0] + " " + k.split("/")[2] for k in seen}) >= 3, seen
    assert sum(seen.values()) >= 8 * EXAMPLES, seen
    # the session survived the fuzz: still signed in, the seeded member's card still answers
    async with httpx.AsyncClient(base_url=bff.gateway_url, timeout=30) as http:
        card = await http.get(f"/bff/scan/cards/{seeds['card_token']}", headers=bff.a.headers())
        assert card.status_code == 200, card.text


def test_the_document_names_every_bff_route_the_gateway_serves() -> None:
    documented = set(bff_document()["paths"])
    from nujoomy_partner_gateway.bff import web_route_handlers

    served_paths = {
        route.path
        for route in Litestar(route_handlers=web_route_handlers()).routes
        if route.path.startswith("/bff/")
    }
    as_documented = {p.replace(":str}", "}") for p in served_paths}
    assert as_documented == documented, (as_documented, documented)


async def test_ids_that_would_leave_their_route_name_nothing(bff: BffStack) -> None:
    # Found by the fuzz above: a control character in an id was a 500 (httpx's InvalidURL). Encoded
    # dot segments were already 404s here (the router keeps %2F inside the id); the BFF now refuses
    # them itself before calling a sibling, so no route of the ledger can be reached through an id.
    async with httpx.AsyncClient(base_url=bff.gateway_url, timeout=30) as http:
        for path in (
            "/bff/scan/cards/..%2F..%2Finternal%2Fv1%2Fmembers",
            "/bff/scan/cards/%2E%2E%2F%2E%2E%2Finternal%2Fv1%2Fmembers",
            "/bff/scan/cards/NJ1-%0D%0AX",
            "/bff/sync/prg_%07",
        ):
            response = await http.get(path, headers=bff.a.headers())
            assert response.status_code == 404, (path, response.status_code, response.text[:200])
            assert response.json()["code"] == "not_found"
        join = await http.get("/join/..%2Fhealth%2Fready")
        assert join.status_code == 404, join.status_code
