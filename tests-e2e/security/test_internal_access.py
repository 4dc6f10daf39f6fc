"""Who may call what on the internal APIs: the table in docs/internal-api.md ("Who may call what") is
the audit of every `/internal/` and `/staff/` route of the five services, and each service, served
alone over its real database, enforces it. For every route: each staff role below the one the
dashboard asks for is refused (403 problem+json `forbidden`) and the role itself is admitted; an
internal token without the route's scope is refused, one with it (or the partner key's broad
`read`/`write`) is admitted; a route that names no scope refuses every internal token. A staff
token sent straight to the ledger is a barista's token too: it gets what the dashboard gives a
barista and no more."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest
from nujoomy_kit.ids import encode_id
from nujoomy_kit.tokens import ROLE_RANK, InternalTokenIssuer
from nujoomy_messaging import Topology
from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens

from .alone import build_alone
from .bff_stack import infra_settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("tenant", "ledger", "wallet-pass", "notification", "partner-gateway")
NO = "—"


class Rule(msgspec.Struct, frozen=True):
    service: str
    method: str
    path: str
    role: str  # least staff role, NO (internal only) or "public"
    scope: str  # scope an internal token needs, NO (refused) or "public"


def access_table() -> list[Rule]:
    """The rows of docs/internal-api.md's "Who may call what" table."""
    text = (ROOT / "docs" / "internal-api.md").read_text()
    section = text.split("## Who may call what", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in SERVICES:
            rows.append(Rule(*cells))
    return rows


def routes(app: object) -> set[tuple[str, str]]:
    """(method, path) of every internal and scanner route the app serves, parameters as `{name}`."""
    found = set()
    for route in app.routes:  # type: ignore[attr-defined]
        if not re.match(r"^/(internal|staff)/", route.path):
            continue
        for method in getattr(route, "methods", ()):
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, re.sub(r":\w+}", "}", route.path)))
    return found


_PREFIXES = {
    "member_id": "mbr",
    "mbr_id": "mbr",
    "txn_id": "txn",
    "rsv_id": "rsv",
    "prg_id": "prg",
    "reward_id": "rwd",
    "location_id": "loc",
    "staff_id": "stf",
    "key_id": "key",
    "endpoint_id": "we",
    "delivery_id": "dlv",
    "message_id": "msg",
}
_VALUES = {"kind": "points_earned", "locale": "en", "slug": "nobody", "card_token": "no-such-card"}


def concrete(path: str) -> str:
    """The path with ids that exist nowhere: a guard decides before any handler looks them up."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return _VALUES.get(name) or encode_id(_PREFIXES[name], uuid.uuid4())

    return re.sub(r"{(\w+)}", fill, path)


def grants(scopes: tuple[str, ...], needed: str) -> bool:
    return needed in scopes or needed.rpartition(":")[2] in scopes


class Target(msgspec.Struct):
    service: str
    url: str
    tenant: uuid.UUID
    routes: set[tuple[str, str]]


@pytest.fixture(params=SERVICES)
async def target(
    request: pytest.FixtureRequest,
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
    tmp_path: Path,
) -> AsyncIterator[Target]:
    service: str = request.param
    common = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    app, tenant, _ = await build_alone(service, common, make_db, tokens, tmp_path)
    async with served(app) as url:
        yield Target(service, url, tenant, routes(app))


@pytest.fixture
async def ledger(
    make_db: MakeDb,
    amqp_url: str,
    redis_url: str,
    redis_prefix: str,
    topology: Topology,
    tokens: TestTokens,
    tmp_path: Path,
) -> AsyncIterator[tuple[str, uuid.UUID]]:
    """The ledger alone: (its URL, the tenant whose program it holds)."""
    common = infra_settings(amqp_url, redis_url, redis_prefix, topology, tokens)
    app, tenant, _ = await build_alone("ledger", common, make_db, tokens, tmp_path)
    async with served(app) as url:
        yield url, tenant


async def _call(http: httpx.AsyncClient, rule: Rule, headers: dict[str, str]) -> httpx.Response:
    body = {} if rule.method in ("POST", "PUT", "PATCH") else None
    return await http.request(rule.method, concrete(rule.path), json=body, headers=headers)


def _refused(response: httpx.Response, what: str) -> None:
    assert response.status_code == 403, (what, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), what
    assert response.json()["code"] == "forbidden", what


def _admitted(response: httpx.Response, what: str) -> None:
    assert response.status_code not in (401, 403), (what, response.status_code, response.text)
    assert response.status_code < 500, (what, response.status_code, response.text)


async def test_each_internal_route_admits_exactly_the_roles_and_scopes_of_the_access_table(
    target: Target, tokens: TestTokens
) -> None:
    rules = [r for r in access_table() if r.service == target.service]
    # The audit is complete: every route the service serves is in the table, and nothing else is.
    assert {(r.method, r.path) for r in rules} == target.routes

    def staff(role: str) -> dict[str, str]:
        return tokens.headers(tokens.staff(target.tenant, role=role), mode="test")  # type: ignore[arg-type]

    def internal(*scopes: str) -> dict[str, str]:
        return tokens.headers(tokens.internal(target.tenant, "test", scopes=scopes, to=target.service))

    partner = ("read", "write", "webhooks")  # what the gateway passes for a full partner key
    async with httpx.AsyncClient(base_url=target.url, timeout=30) as http:
        for rule in rules:
            if rule.role == "public":
                continue
            where = f"{rule.method} {rule.path}"
            for role in ROLE_RANK:
                response = await _call(http, rule, staff(role))
                if rule.role != NO and ROLE_RANK[role] >= ROLE_RANK[rule.role]:
                    _admitted(response, f"{where} as {role}")
                else:
                    _refused(response, f"{where} as {role}")
            # A role-less internal token with no scope passes no check.
            _refused(await _call(http, rule, internal()), f"{where} internal, no scope")
            if rule.scope == NO:
                _refused(await _call(http, rule, internal(*partner)), f"{where} internal, partner scopes")
                continue
            _admitted(await _call(http, rule, internal(rule.scope)), f"{where} with {rule.scope}")
            broad = await _call(http, rule, internal(*partner))
            if grants(partner, rule.scope):
                _admitted(broad, f"{where} with the partner's scopes")
            else:
                _refused(broad, f"{where} with the partner's scopes")


async def test_a_barista_token_sent_straight_to_the_ledger_gets_no_gdpr_export_or_reversal(
    ledger: tuple[str, uuid.UUID], tokens: TestTokens
) -> None:
    url, tenant = ledger
    barista = tokens.headers(tokens.staff(tenant, role="staff"))
    manager = tokens.headers(tokens.staff(tenant, role="manager"))
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        member = (
            await http.post("/internal/v1/members", json={"email": "ada@example.com"}, headers=manager)
        ).json()
        earned = await http.post(
            f"/internal/v1/members/{member['id']}/earn",
            json={"points": 10, "idempotency_key": uuid.uuid4().hex},
            headers=manager,
        )
        txn = earned.json()["transaction"]["id"]
        # What the dashboard gives a barista: the member, found and shown.
        assert (await http.get("/internal/v1/members", headers=barista)).status_code == 200
        assert (await http.get(f"/internal/v1/members/{member['id']}", headers=barista)).status_code == 200
        # What it gives a manager only.
        _refused(await http.get(f"/internal/v1/members/{member['id']}/export", headers=barista), "export")
        _refused(await http.post(f"/internal/v1/members/{member['id']}/erase", headers=barista), "erase")
        reverse = {"reason": "oops", "idempotency_key": uuid.uuid4().hex}
        _refused(
            await http.post(f"/internal/v1/transactions/{txn}/reverse", json=reverse, headers=barista),
            "reverse",
        )
        export = await http.get(f"/internal/v1/members/{member['id']}/export", headers=manager)
        assert export.json()["member"]["email"] == "ada@example.com"


async def test_an_internal_token_for_another_service_or_signed_with_another_callers_key_is_refused(
    ledger: tuple[str, uuid.UUID], tokens: TestTokens
) -> None:
    url, tenant = ledger

    def as_caller(key_of: str, subject: str, to: str) -> dict[str, str]:
        issuer = InternalTokenIssuer(tokens.private_pems[key_of], subject=subject)
        return tokens.headers(issuer.issue(tenant, "live", to=to, scopes=("read",)))

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        assert (
            await http.get(
                "/internal/v1/members", headers=as_caller("partner-gateway", "partner-gateway", "ledger")
            )
        ).status_code == 200
        refused = {
            # minted by the gateway for wallet-pass: not the ledger's
            "another audience": as_caller("partner-gateway", "partner-gateway", "wallet-pass"),
            # notification's key claiming to be the gateway
            "another caller's key": as_caller("notification", "partner-gateway", "ledger"),
        }
        stranger = TestTokens()  # a key no keyset lists
        refused["an unknown key"] = stranger.headers(
            InternalTokenIssuer(stranger.private_pems["partner-gateway"], subject="partner-gateway").issue(
                tenant, "live", to="ledger", scopes=("read",)
            )
        )
        for what, headers in refused.items():
            response = await http.get("/internal/v1/members", headers=headers)
            assert response.status_code == 401, (what, response.text)
            assert response.json()["code"] == "unauthorized", what
