"""The dashboard's own calls and pages, probed across tenants and modes, and with broken sessions.

Owner A, signed in through /app/login, aims every route that takes an id at business B's member,
card, transaction, program and API key, and (with the test-mode switch on) at A's own live-mode ids:
each answers 404 (or re-renders its page with the refusal, for the developer forms) and afterwards
B's and A's live data read exactly as before. Tampered, expired, wrong-audience and wrong-kind access
cookies are 401 problems that clear the session; a write without the CSRF header, or with another
session's, is a 403 `csrf_failed` that changes nothing."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
from nujoomy_kit.ids import encode_id
from nujoomy_kit.tokens import ALGORITHM, STAFF_AUDIENCE, STAFF_ISSUER
from nujoomy_testing.tokens import TestTokens

from .bff_stack import BffStack, Session, bff_stack  # noqa: F401  (the `bff` fixture)

PROBLEM = "application/problem+json"


class Target:
    """One business's ids in one mode, and what its ledger holds for them."""

    def __init__(self, bff: BffStack, session: Session, mode: str) -> None:
        self.bff, self.session, self.mode = bff, session, mode
        self.staff = {"Authorization": f"Bearer {session.access_token}", "Nujoomy-Mode": mode}
        self.member = self.card = self.txn = self.program = ""

    async def seed(self, http: httpx.AsyncClient) -> Target:
        ledger = self.bff.ledger_url
        member = await http.post(f"{ledger}/internal/v1/members", json={"name": "Target"}, headers=self.staff)
        assert member.status_code == 201, member.text
        self.member = member.json()["id"]
        card = (
            await http.post(f"{ledger}/internal/v1/members/{self.member}/card", json={}, headers=self.staff)
        ).json()
        self.card = card.get("card_token") or card["token"]
        earned = await http.post(
            f"{self.bff.gateway_url}/bff/scan/earn",
            json={"card_token": self.card, "points": 300, "idempotency_key": uuid.uuid4().hex},
            headers=self.session.headers(self.mode),
        )
        assert earned.status_code == 200, earned.text
        self.txn = earned.json()["transaction"]["id"]
        program = (await http.get(f"{self.bff.tenant_url}/internal/v1/program", headers=self.staff)).json()
        self.program = encode_id("prg", uuid.UUID(str(program["program_id"])))
        return self

    async def state(self, http: httpx.AsyncClient) -> tuple[Any, ...]:
        ledger = self.bff.ledger_url
        member = (await http.get(f"{ledger}/internal/v1/members/{self.member}", headers=self.staff)).json()
        history = await http.get(
            f"{ledger}/internal/v1/members/{self.member}/transactions", headers=self.staff
        )
        program = (await http.get(f"{self.bff.tenant_url}/internal/v1/program", headers=self.staff)).json()
        keys = await http.get(f"{self.bff.gateway_url}/internal/v1/api_keys", headers=self.staff)
        return (
            member["name"],
            member["balance"],
            [(t["id"], t.get("status")) for t in history.json()["data"]],
            program["version"],
            keys.json()["data"],
        )


async def _key(http: httpx.AsyncClient, bff: BffStack, target: Target) -> str:
    made = await http.post(
        f"{bff.gateway_url}/internal/v1/api_keys", json={"name": "victim"}, headers=target.staff
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _json_probes(t: Target) -> list[tuple[str, str, Any]]:
    once = uuid.uuid4().hex
    return [
        ("GET", f"/bff/scan/cards/{t.card}", None),
        ("POST", "/bff/scan/earn", {"card_token": t.card, "points": 50, "idempotency_key": once + "e"}),
        ("POST", "/bff/scan/redeem", {"card_token": t.card, "points": 50, "idempotency_key": once + "r"}),
        ("POST", "/bff/scan/undo", {"transaction_id": t.txn, "idempotency_key": once + "u"}),
    ]


def _page_probes(t: Target, key: str, csrf: str) -> list[tuple[str, str, Any]]:
    once = uuid.uuid4().hex
    return [
        ("GET", f"/app/members/{t.member}", None),
        ("GET", f"/app/members/{t.member}/export", None),
        (
            "POST",
            f"/app/members/{t.member}/adjust",
            {"_csrf": csrf, "points": "1000", "reason": "probe", "idempotency_key": once + "a"},
        ),
        (
            "POST",
            f"/app/members/{t.member}/transactions/{t.txn}/reverse",
            {"_csrf": csrf, "reason": "probe", "idempotency_key": once + "v"},
        ),
        ("POST", f"/app/members/{t.member}/erase", {"_csrf": csrf}),
        ("POST", f"/app/developers/keys/{key}/roll", {"_csrf": csrf}),
        ("POST", f"/app/developers/keys/{key}/revoke", {"_csrf": csrf}),
    ]


async def test_another_tenants_or_modes_ids_are_not_found_and_nothing_changes(bff: BffStack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        theirs = await Target(bff, bff.b, "test").seed(http)  # business B
        live = await Target(bff, bff.a, "live").seed(http)  # A's own live mode, probed from test mode
        keys = {id(theirs): await _key(http, bff, theirs), id(live): await _key(http, bff, live)}
        before = [await theirs.state(http), await live.state(http)]
        a = bff.a.headers("test")
        for target in (theirs, live):
            for method, path, body in _json_probes(target):
                response = await http.request(method, bff.gateway_url + path, json=body, headers=a)
                assert response.status_code == 404, (
                    target.mode,
                    method,
                    path,
                    response.status_code,
                    response.text,
                )
                assert response.headers["content-type"].startswith(PROBLEM)
                assert response.json()["code"] == "not_found"
            # Sync progress answers "nothing to push" for any program it has no run for in the caller's
            # tenant and mode (the page polls before a run exists): a foreign program reads exactly
            # like a made-up one, so the answer reveals nothing.
            sync = await http.get(f"{bff.gateway_url}/bff/sync/{target.program}", headers=a)
            ghost = await http.get(f"{bff.gateway_url}/bff/sync/{encode_id('prg', uuid.uuid4())}", headers=a)
            assert sync.status_code == ghost.status_code == 200, sync.text
            strip = ("program_id",)
            assert {k: v for k, v in sync.json().items() if k not in strip} == {
                k: v for k, v in ghost.json().items() if k not in strip
            }
            assert sync.json()["total"] == 0
            for method, path, form in _page_probes(target, keys[id(target)], bff.a.csrf):
                response = await http.request(
                    method, bff.gateway_url + path, data=form, headers=a, follow_redirects=False
                )
                # The developer forms go back to their page with the refusal (no new secret shown).
                back = response.headers.get("location") if response.status_code == 303 else None
                shown = (await _follow(http, bff, back, response, a)) if back else response
                refused = response.status_code == 404 or (
                    path.startswith("/app/developers/")
                    and (back is None or back == "/app/developers")
                    and shown.status_code == 200
                    and 'class="alert error"' in shown.text
                    and "nj_live_" not in shown.text
                    and "nj_test_" not in shown.text
                )
                assert refused, (target.mode, method, path, response.status_code, back, shown.text[:300])
        assert [await theirs.state(http), await live.state(http)] == before
        # A's own test mode still works with the same session: the refusals were about the ids.
        mine = await Target(bff, bff.a, "test").seed(http)
        card = await http.get(f"{bff.gateway_url}/bff/scan/cards/{mine.card}", headers=a)
        assert card.status_code == 200, card.text


async def _follow(
    http: httpx.AsyncClient, bff: BffStack, url: str, response: httpx.Response, headers: dict[str, str]
) -> httpx.Response:
    """The page a 303 leads to, with the cookies it set (the flash that carries its message)."""
    jar = "; ".join([headers["Cookie"], *(f"{k}={v}" for k, v in response.cookies.items())])
    return await http.get(bff.gateway_url + url, headers={**headers, "Cookie": jar})


def _staff_claims(session: Session) -> dict[str, Any]:
    now = int(time.time())
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    return {**claims, "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}


def _flip(signature: str) -> str:
    return signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")


async def _tenant_key(bff: BffStack) -> tuple[Any, str]:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from nujoomy_kit.db import make_engine, make_sessionmaker
    from nujoomy_tenant.db.keys import current_key

    engine = make_engine(bff.tenant_db, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db:
            row = await current_key(db)
    finally:
        await engine.dispose()
    assert row is not None
    return load_pem_private_key(row["private_pem"].encode(), None), str(row["kid"])


async def test_broken_session_cookies_are_401_and_end_the_session(bff: BffStack, tokens: TestTokens) -> None:
    key, kid = await _tenant_key(bff)
    claims = _staff_claims(bff.a)
    assert claims["iss"] == STAFF_ISSUER  # signed like the real ones
    assert claims["aud"] == STAFF_AUDIENCE
    sign = {"algorithm": ALGORITHM, "headers": {"kid": kid}}
    header, payload, signature = bff.a.access_token.split(".")
    forged = {
        "tampered signature": f"{header}.{payload}.{_flip(signature)}",
        "expired": jwt.encode(
            {**claims, "iat": claims["iat"] - 3600, "exp": claims["iat"] - 120}, key, **sign
        ),
        "wrong audience": jwt.encode({**claims, "aud": "nujoomy-partner"}, key, **sign),
        "wrong issuer": jwt.encode({**claims, "iss": "https://evil.example"}, key, **sign),
        "other tenant's claim": jwt.encode({**claims, "tid": str(bff.b.tenant_id)}, tokens.staff_key, **sign),
        "internal service token": tokens.internal(bff.a.tenant_id, mode="test"),
        "garbage": "not-a-jwt",
    }
    async with httpx.AsyncClient(base_url=bff.gateway_url, timeout=30) as http:
        for name, token in forged.items():
            # A refresh cookie that is no longer valid either: the session cannot be revived.
            cookies = {"nj_access": token, "nj_refresh": "spent-" + uuid.uuid4().hex, "nj_csrf": bff.a.csrf}
            jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
            headers = {"Cookie": jar, "X-CSRF-Token": bff.a.csrf}
            for method, path, body in (
                ("GET", "/bff/overview", None),
                (
                    "POST",
                    "/bff/scan/earn",
                    {"card_token": "NJ1-" + "A" * 26, "points": 5, "idempotency_key": "x" * 12},
                ),
                ("PATCH", "/bff/program/branding", _branding("#FF0000")),
            ):
                response = await http.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (name, path, response.status_code, response.text)
                assert response.headers["content-type"].startswith(PROBLEM)
                if name != "internal service token":  # verifies, but is no staff session: just refused
                    # the refresh attempt fails on the spent refresh token, and the session is ended
                    cleared = [
                        c for c in response.headers.get_list("set-cookie") if c.startswith("nj_access=")
                    ]
                    assert cleared, (name, path, "the dead session's cookies must be cleared")
                    assert all("Max-Age=0" in c for c in cleared), cleared
            page = await http.get("/app", headers=headers, follow_redirects=False)
            assert page.status_code == 303, name
            assert page.headers["location"] == "/app/login", name
        # The real session is untouched, and the forged branding never landed.
        overview = await http.get("/bff/overview", headers=bff.a.headers())
        assert overview.status_code == 200, overview.text
    staff = {"Authorization": f"Bearer {bff.a.access_token}", "Nujoomy-Mode": "test"}
    async with httpx.AsyncClient(base_url=bff.tenant_url, timeout=30) as http:
        program = (await http.get("/internal/v1/program", headers=staff)).json()
        assert program["branding"]["background_color"].upper() != "#FF0000"


def _branding(color: str) -> dict[str, str]:
    return {
        "background_color": color,
        "foreground_color": "#FFFFFF",
        "label_color": "#EEEEEE",
        "program_name": "Hijacked",
        "balance_label": "Pts",
    }


async def test_writes_without_the_sessions_csrf_token_are_403_and_change_nothing(bff: BffStack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        mine = await Target(bff, bff.a, "test").seed(http)
        before = await mine.state(http)
        a = bff.a.headers("test")
        cookie_only = {"Cookie": a["Cookie"]}
        wrong = [
            ("no header", cookie_only),
            ("another session's token", {**cookie_only, "X-CSRF-Token": bff.b.csrf}),
            ("a made-up token", {**cookie_only, "X-CSRF-Token": "abc.def"}),
            (
                "the cookie value changed",
                {"Cookie": a["Cookie"].replace(bff.a.csrf, bff.b.csrf), "X-CSRF-Token": bff.b.csrf},
            ),
        ]
        once = uuid.uuid4().hex
        for name, headers in wrong:
            for method, path, body in (
                (
                    "POST",
                    "/bff/scan/earn",
                    {"card_token": mine.card, "points": 7, "idempotency_key": once + "e"},
                ),
                (
                    "POST",
                    "/bff/scan/redeem",
                    {"card_token": mine.card, "points": 7, "idempotency_key": once + "r"},
                ),
                ("POST", "/bff/scan/undo", {"transaction_id": mine.txn, "idempotency_key": once + "u"}),
                ("PATCH", "/bff/program/branding", _branding("#00FF00")),
            ):
                response = await http.request(method, bff.gateway_url + path, json=body, headers=headers)
                assert response.status_code == 403, (name, path, response.status_code, response.text)
                assert response.json()["code"] == "csrf_failed", (name, path)
            form = {"points": "1000", "reason": "probe", "idempotency_key": once + "a"}
            if "X-CSRF-Token" in headers:
                form["_csrf"] = headers["X-CSRF-Token"]
            page = await http.post(
                f"{bff.gateway_url}/app/members/{mine.member}/adjust",
                data=form,
                headers={"Cookie": headers["Cookie"]},
                follow_redirects=False,
            )
            assert page.status_code == 403, (name, page.status_code)
        assert await mine.state(http) == before
