"""Cross-tenant and cross-mode probes on the internal and staff routes of the ledger and wallet-pass
(the partner routes: services/partner-gateway/tests/test_partner_api.py; the dashboard's:
test_bff_isolation.py): every id of tenant A's test mode, aimed at with tenant B's
credentials or with A's live-mode credentials, answers 404 `not_found` (or 403), and afterwards the
owner reads exactly what was there before."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from nujoomy_kit.ids import encode_id
from nujoomy_testing.tokens import TestTokens

from .conftest import COFFEE, Stack, bearer


async def _seed(stack: Stack) -> tuple[str, str]:
    gateway, key = stack.gateway, stack.keys.owner
    member = await gateway.post(
        "/v1/members", json={"name": "Lina", "email": "l@example.com"}, headers=bearer(key)
    )
    assert member.status_code == 201, member.text
    mid = member.json()["id"]
    earned = await gateway.post(f"/v1/members/{mid}/earn", json={"points": 300}, headers=bearer(key))
    assert earned.status_code == 200, earned.text
    return mid, earned.json()["transaction"]["id"]


async def _snapshot(stack: Stack, mid: str) -> tuple[Any, ...]:
    gateway, key = stack.gateway, stack.keys.owner
    member = (await gateway.get(f"/v1/members/{mid}", headers=bearer(key))).json()
    history = (await gateway.get(f"/v1/members/{mid}/transactions", headers=bearer(key))).json()
    return member["name"], member["balance"], [t["id"] for t in history["data"]]


COFFEE_ID = encode_id("rwd", COFFEE)


def once() -> dict[str, str]:
    return {"idempotency_key": uuid.uuid4().hex}


def _routes(mid: str, txn: str) -> list[tuple[str, str, str, Any]]:
    """(service, method, path, body): every route that takes an id of a member or transaction."""
    return [
        ("ledger", "GET", f"/internal/v1/members/{mid}", None),
        ("ledger", "PATCH", f"/internal/v1/members/{mid}", {"name": "Mallory"}),
        ("ledger", "POST", f"/internal/v1/members/{mid}/card", {}),
        ("ledger", "GET", f"/internal/v1/members/{mid}/export", None),
        ("ledger", "POST", f"/internal/v1/members/{mid}/erase", {}),
        ("ledger", "POST", f"/internal/v1/members/{mid}/earn", {"points": 1, **once()}),
        ("ledger", "POST", f"/internal/v1/members/{mid}/redeem", {"points": 1, **once()}),
        ("ledger", "POST", f"/internal/v1/members/{mid}/adjust", {"points": 5, "reason": "probe", **once()}),
        ("ledger", "POST", f"/internal/v1/transactions/{txn}/reverse", {"reason": "probe", **once()}),
        ("ledger", "GET", f"/internal/v1/members/{mid}/transactions", None),
        ("ledger", "POST", f"/internal/v1/members/{mid}/reservations", {"reward_id": COFFEE_ID, **once()}),
        ("ledger", "POST", "/staff/v1/earn", {"member_id": mid, "points": 1, **once()}),
        ("ledger", "POST", "/staff/v1/redeem", {"member_id": mid, "points": 1, **once()}),
        ("ledger", "POST", "/staff/v1/reverse", {"transaction_id": txn, **once()}),
        ("wallet", "GET", f"/internal/v1/members/{mid}/passes", None),
    ]


async def test_internal_routes_refuse_ids_of_another_tenant_or_mode(stack: Stack, tokens: TestTokens) -> None:
    mid, txn = await _seed(stack)
    before = await _snapshot(stack, mid)
    probes: list[tuple[str, Any]] = []
    for tid, mode in ((stack.other, "test"), (stack.tenant, "live")):
        staff = tokens.headers(tokens.staff(tid, role="owner"), mode=mode)  # type: ignore[arg-type]
        probes.append((f"staff {mode}", lambda _, staff=staff: staff))
        probes.append(
            (
                f"internal {mode}",
                # addressed to the service it probes (a token for another one is a 401, not a probe)
                lambda to, tid=tid, mode=mode: tokens.headers(tokens.internal(tid, mode=mode, to=to)),
            )
        )
    refused = 0
    async with httpx.AsyncClient(timeout=10) as http:
        for who, headers_for in probes:
            for service, method, path, body in _routes(mid, txn):
                base = stack.ledger_url if service == "ledger" else stack.wallet_url
                headers = headers_for("ledger" if service == "ledger" else "wallet-pass")
                response = await http.request(method, base + path, json=body, headers=headers)
                assert response.status_code in (403, 404), (
                    who,
                    method,
                    path,
                    response.status_code,
                    response.text,
                )
                assert response.headers["content-type"].startswith("application/problem+json")
                if response.status_code == 404:
                    assert response.json()["code"] == "not_found", (who, path)
                refused += 1
    assert refused == 4 * len(_routes(mid, txn))
    assert await _snapshot(stack, mid) == before


async def test_the_staff_scanner_cannot_reach_another_tenants_card(stack: Stack, tokens: TestTokens) -> None:
    mid, _ = await _seed(stack)
    owner = tokens.headers(tokens.internal(stack.tenant, mode="test", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, timeout=10) as http:
        card = (await http.post(f"/internal/v1/members/{mid}/card", json={}, headers=owner)).json()
        card_token = card.get("card_token") or card.get("token")
        assert card_token, card
        before = await _snapshot(stack, mid)
        for tid, mode in ((stack.other, "test"), (stack.tenant, "live")):
            staff = tokens.headers(tokens.staff(tid, role="manager"), mode=mode)  # type: ignore[arg-type]
            seen = await http.get(f"/staff/v1/cards/{card_token}", headers=staff)
            assert seen.status_code == 404, seen.text
            earn = await http.post(
                "/staff/v1/earn", json={"card_token": card_token, "points": 50, **once()}, headers=staff
            )
            assert earn.status_code in (404, 400, 422), earn.text
            assert earn.status_code != 200
        assert await _snapshot(stack, mid) == before
        # A made-up id of the right shape is a 404 too (no oracle between "foreign" and "absent").
        ghost = await http.get(f"/internal/v1/members/mbr_{uuid.uuid4().hex}", headers=owner)
        assert ghost.status_code in (400, 404)


async def test_api_keys_cannot_be_revoked_or_rolled_from_another_tenant_or_mode(
    stack: Stack, tokens: TestTokens
) -> None:
    gateway = stack.gateway
    owner = tokens.headers(tokens.staff(stack.tenant, role="owner"), mode="test")
    (key,) = (await gateway.get("/internal/v1/api_keys", headers=owner)).json()["data"]
    for tid, mode in ((stack.other, "test"), (stack.tenant, "live")):
        stranger = tokens.headers(tokens.staff(tid, role="owner"), mode=mode)  # type: ignore[arg-type]
        for method, path in (
            ("DELETE", f"/internal/v1/api_keys/{key['id']}"),
            ("POST", f"/internal/v1/api_keys/{key['id']}/roll"),
        ):
            response = await gateway.request(
                method, path, json=None if method == "DELETE" else {}, headers=stranger
            )
            assert response.status_code == 404, (mode, method, response.status_code, response.text)
            assert response.json()["code"] == "not_found"
        listed = (await gateway.get("/internal/v1/api_keys", headers=stranger)).json()["data"]
        assert key["id"] not in str(listed)
    # The owner's key still works, and is the only one.
    assert (await gateway.get("/v1/rewards", headers=bearer(stack.keys.owner))).status_code == 200
    assert [k["id"] for k in (await gateway.get("/internal/v1/api_keys", headers=owner)).json()["data"]] == [
        key["id"]
    ]
