"""Staff sign-in: login, one answer for every failure, throttling, refresh rotation and reuse, logout,
password links."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from typing import Any

import asyncpg
import httpx
import jwt
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import make_engine, make_sessionmaker, plain_url
from nujoomy_kit.ids import decode_id
from nujoomy_kit.resources import PLATFORM_TENANT
from nujoomy_kit.tokens import STAFF_AUDIENCE, STAFF_ISSUER, JwksCache, TokenVerifier
from nujoomy_tenant.app import build_app
from nujoomy_tenant.settings import Settings
from nujoomy_tenant.worker import purge_job
from nujoomy_testing.servers import served
from nujoomy_testing.tokens import TestTokens
from tenant_helpers import PASSWORD, Business, bearer, login

Client = AsyncTestClient  # type: ignore[type-arg]


def cross_service_verifier(client: Client) -> TokenVerifier:
    """What another service runs: the kit verifier over a JWKS fetched from this app."""

    async def fetch() -> dict[str, Any]:
        return (await client.get("/.well-known/jwks.json")).json()  # type: ignore[no-any-return]

    return TokenVerifier(service="ledger", jwks=JwksCache(fetch, min_refresh=0))


async def test_login_returns_a_15_minute_ed25519_token_other_services_verify(
    client: Client, acme: Business
) -> None:
    session = await login(client, "acme", acme.owner_email)
    assert session["expires_in"] == 900
    assert session["staff"]["role"] == "owner"
    assert session["staff"]["id"].startswith("stf_")
    assert session["tenant"]["slug"] == "acme"
    assert decode_id("ten", session["tenant"]["id"]) == acme.tenant_id

    header = jwt.get_unverified_header(session["access_token"])
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    assert header["alg"] == "EdDSA"
    assert header["kid"]
    assert claims["iss"] == STAFF_ISSUER
    assert claims["aud"] == STAFF_AUDIENCE
    assert claims["exp"] - claims["iat"] == 900
    assert claims["role"] == "owner"

    principal = await cross_service_verifier(client).verify(session["access_token"])
    assert principal.kind == "staff"
    assert principal.tenant_id == acme.tenant_id
    assert principal.staff_id == decode_id("stf", session["staff"]["id"])
    assert principal.role == "owner"


async def test_unknown_user_wrong_password_and_unknown_tenant_get_the_same_answer(
    client: Client, acme: Business
) -> None:
    attempts = [
        {"tenant": "acme", "email": acme.owner_email, "password": "wrong password!"},
        {"tenant": "acme", "email": "nobody@acme.test", "password": PASSWORD},
        {"tenant": "nosuch", "email": acme.owner_email, "password": PASSWORD},
    ]
    answers = []
    for body in attempts:
        response = await client.post("/auth/login", json=body)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        answer = response.json()
        answer.pop("instance", None)
        answers.append(answer)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["code"] == "invalid_credentials"


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client: Client, acme: Business, settings: Settings
) -> None:
    wrong = {"tenant": "acme", "email": acme.owner_email, "password": "not the password"}
    for _ in range(settings.login_max_per_account):
        assert (await client.post("/auth/login", json=wrong)).status_code == 401
    right = {**wrong, "password": PASSWORD}
    response = await client.post("/auth/login", json=right)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"
    assert 0 < int(response.headers["retry-after"]) <= settings.login_window_seconds


def forwarded(
    tokens: TestTokens, address: str, scopes: tuple[str, ...] = ("auth:forward",)
) -> dict[str, str]:
    """What the gateway sends: an internal token allowed to name the browser's address, and the address."""
    token = tokens.internal(PLATFORM_TENANT, to="tenant", scopes=scopes)
    return {"Authorization": f"Bearer {token}", "Nujoomy-Client-Address": address}


async def test_one_address_guessing_across_accounts_is_throttled(
    settings: Settings, tokens: TestTokens, acme: Business, globex: Business
) -> None:
    tight_settings = msgspec.structs.replace(settings, login_max_per_ip=3)
    async with AsyncTestClient(app=build_app(tight_settings)) as client:
        attacker = forwarded(tokens, "203.0.113.7")
        for i in range(3):
            body = {"tenant": "acme", "email": f"guess{i}@acme.test", "password": "x" * 12}
            assert (await client.post("/auth/login", json=body, headers=attacker)).status_code == 401
        blocked = await client.post(
            "/auth/login",
            json={"tenant": "globex", "email": globex.owner_email, "password": PASSWORD},
            headers=attacker,
        )
        assert blocked.status_code == 429
        # Another client address is not affected.
        other = await client.post(
            "/auth/login",
            json={"tenant": "globex", "email": globex.owner_email, "password": PASSWORD},
            headers=forwarded(tokens, "198.51.100.9"),
        )
        assert other.status_code == 200


async def test_a_guessed_out_account_still_lets_the_owner_in_from_an_address_that_has_not_failed(
    client: Client, tokens: TestTokens, acme: Business, settings: Settings
) -> None:
    wrong = {"tenant": "acme", "email": acme.owner_email, "password": "not the password"}
    right = {**wrong, "password": PASSWORD}
    attacker = forwarded(tokens, "203.0.113.7")
    for _ in range(settings.login_max_per_account):
        assert (await client.post("/auth/login", json=wrong, headers=attacker)).status_code == 401
    # The guessing address is done with this account, even with the right password...
    assert (await client.post("/auth/login", json=right, headers=attacker)).status_code == 429
    # ...and the owner at the counter is not.
    owner = await client.post("/auth/login", json=right, headers=forwarded(tokens, "198.51.100.9"))
    assert owner.status_code == 200, owner.text


async def test_a_spray_from_many_addresses_gets_one_guess_each_and_never_locks_the_owner_out(
    settings: Settings, tokens: TestTokens, acme: Business
) -> None:
    tight = msgspec.structs.replace(settings, login_max_per_account_all_addresses=4)
    wrong = {"tenant": "acme", "email": acme.owner_email, "password": "not the password"}
    async with AsyncTestClient(app=build_app(tight)) as client:
        for i in range(4):
            bot = forwarded(tokens, f"203.0.113.{i + 1}")
            assert (await client.post("/auth/login", json=wrong, headers=bot)).status_code == 401
        # Past the account-wide limit an address that already failed here gets no second guess...
        again = await client.post("/auth/login", json=wrong, headers=forwarded(tokens, "203.0.113.1"))
        assert again.status_code == 429
        assert again.json()["code"] == "too_many_attempts"
        # ...a fresh one gets its first, and the owner's address signs in.
        fresh = await client.post("/auth/login", json=wrong, headers=forwarded(tokens, "203.0.113.99"))
        assert fresh.status_code == 401
        owner = await client.post(
            "/auth/login", json={**wrong, "password": PASSWORD}, headers=forwarded(tokens, "198.51.100.9")
        )
        assert owner.status_code == 200, owner.text


async def test_only_a_platform_service_may_name_the_client_address(
    settings: Settings, tokens: TestTokens, acme: Business
) -> None:
    """Over a real socket from 127.0.0.1: an anonymous caller naming a fresh address per guess (in
    X-Forwarded-For or Nujoomy-Client-Address), or an internal token without the forwarding scope,
    is counted against its own address."""
    tight = msgspec.structs.replace(settings, login_max_per_ip=3)
    claims: list[dict[str, str]] = [
        {"X-Forwarded-For": "203.0.113.1"},
        {"Nujoomy-Client-Address": "203.0.113.2"},
        forwarded(tokens, "203.0.113.3", scopes=("read",)),
    ]
    async with served(build_app(tight)) as url, httpx.AsyncClient(base_url=url) as http:
        for headers in claims:
            body = {"tenant": "acme", "email": "nobody@acme.test", "password": "x" * 12}
            assert (await http.post("/auth/login", json=body, headers=headers)).status_code == 401
        spoofed = await http.post(
            "/auth/login",
            json={"tenant": "acme", "email": acme.owner_email, "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.77", "Nujoomy-Client-Address": "198.51.100.78"},
        )
        assert spoofed.status_code == 429, spoofed.text
        garbled = await http.post(
            "/auth/login",
            json={"tenant": "acme", "email": acme.owner_email, "password": PASSWORD},
            headers=forwarded(tokens, "not-an-address"),
        )
        assert garbled.status_code == 422


@pytest.mark.parametrize(("fail_closed", "status"), [(False, 200), (True, 503)])
async def test_with_redis_away_sign_in_is_let_through_or_refused_never_a_500(
    settings: Settings, acme: Business, fail_closed: bool, status: int
) -> None:
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    away = msgspec.structs.replace(
        settings, redis_url=nothing_listens, login_throttle_fail_closed=fail_closed
    )
    async with AsyncTestClient(app=build_app(away)) as client:
        body = {"tenant": "acme", "email": acme.owner_email, "password": PASSWORD}
        answer = await client.post("/auth/login", json=body)
    assert answer.status_code == status, answer.text
    if fail_closed:
        assert answer.json()["code"] == "login_unavailable"
        assert answer.headers["retry-after"] == "5"
    else:
        assert answer.json()["access_token"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_refresh_rotates_and_reusing_a_spent_token_revokes_the_family(
    client: Client, acme: Business
) -> None:
    first = await login(client, "acme", acme.owner_email)
    rotated = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]

    # Someone replays the spent token: the whole family ends, including the legitimate newer token.
    replay = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "refresh_token_reused"
    after = await client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    assert after.json()["code"] == "invalid_refresh_token"

    # Another login (another family) is untouched.
    other = await login(client, "acme", acme.owner_email)
    assert (
        await client.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 200


async def test_logout_ends_the_refresh_family(client: Client, acme: Business) -> None:
    session = await login(client, "acme", acme.owner_email)
    assert (
        await client.post("/auth/logout", json={"refresh_token": session["refresh_token"]})
    ).status_code == 204
    response = await client.post("/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert response.status_code == 401


async def test_invited_staff_set_a_password_once_then_sign_in(client: Client, acme: Business) -> None:
    owner = await login(client, "acme", acme.owner_email)
    invited = await client.post(
        "/internal/v1/staff",
        json={"email": "Barista@Acme.test", "role": "staff", "name": "Bea"},
        headers=bearer(owner["access_token"]),
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["password_token"]
    assert invited.json()["password_url"] == f"https://loyalty.example/app/password?token={token}"

    # Before a password is set nobody can sign in as them.
    no_password = {"tenant": "acme", "email": "barista@acme.test", "password": "anything at all"}
    assert (await client.post("/auth/login", json=no_password)).status_code == 401

    weak = await client.post("/auth/password", json={"token": token, "password": "short"})
    assert weak.status_code == 422
    assert weak.json()["code"] == "weak_password"
    done = await client.post("/auth/password", json={"token": token, "password": "a long new secret"})
    assert done.status_code == 200
    assert done.json()["email"] == "barista@acme.test"
    again = await client.post("/auth/password", json={"token": token, "password": "another long secret"})
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"

    session = await login(client, "acme", "barista@acme.test", "a long new secret")
    assert session["staff"]["role"] == "staff"


async def test_a_disabled_staff_member_cannot_sign_in_or_refresh(client: Client, acme: Business) -> None:
    owner = await login(client, "acme", acme.owner_email)
    invited = (
        await client.post(
            "/internal/v1/staff",
            json={"email": "m@acme.test", "role": "manager"},
            headers=bearer(owner["access_token"]),
        )
    ).json()
    await client.post(
        "/auth/password", json={"token": invited["password_token"], "password": "manager secret"}
    )
    manager = await login(client, "acme", "m@acme.test", "manager secret")
    disabled = await client.patch(
        f"/internal/v1/staff/{invited['staff']['id']}",
        json={"disabled": True},
        headers=bearer(owner["access_token"]),
    )
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    denied = await client.post(
        "/auth/login", json={"tenant": "acme", "email": "m@acme.test", "password": "manager secret"}
    )
    assert denied.status_code == 401
    assert denied.json()["code"] == "invalid_credentials"
    refreshed = await client.post("/auth/refresh", json={"refresh_token": manager["refresh_token"]})
    assert refreshed.status_code == 401


async def test_the_last_owner_cannot_be_demoted(client: Client, acme: Business) -> None:
    owner = await login(client, "acme", acme.owner_email)
    response = await client.patch(
        f"/internal/v1/staff/{owner['staff']['id']}",
        json={"role": "manager"},
        headers=bearer(owner["access_token"]),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"


async def test_concurrent_refreshes_with_one_token_yield_one_session(client: Client, acme: Business) -> None:
    session = await login(client, "acme", acme.owner_email)
    body = {"refresh_token": session["refresh_token"]}
    results = await asyncio.gather(*(client.post("/auth/refresh", json=body) for _ in range(3)))
    assert sorted(r.status_code for r in results) == [200, 401, 401]


async def test_malformed_login_bodies_are_problems(client: Client) -> None:
    for body in [{}, {"tenant": "acme"}, {"tenant": 1, "email": "x", "password": "y"}]:
        response = await client.post("/auth/login", json=body)
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_input"


async def test_the_worker_purges_long_expired_tokens_only(
    client: Client, acme: Business, db_url: str
) -> None:
    old = await login(client, "acme", acme.owner_email)
    fresh = await login(client, "acme", acme.owner_email)
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        await conn.execute(
            "UPDATE refresh_tokens SET expires_at = now() - interval '3 days' WHERE token_hash = $1",
            hashlib.sha256(old["refresh_token"].encode()).hexdigest(),
        )
        engine = make_engine(db_url, pool_size=1)
        try:
            assert await purge_job(make_sessionmaker(engine)).run() == 1
        finally:
            await engine.dispose()
        assert await conn.fetchval("SELECT count(*) FROM refresh_tokens") == 1
    finally:
        await conn.close()
    assert (
        await client.post("/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    ).status_code == 200


async def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(
    client: Client, acme: Business, settings: Settings
) -> None:
    wrong = {"tenant": "acme", "email": acme.owner_email, "password": "not the password"}
    results = await asyncio.gather(*(client.post("/auth/login", json=wrong) for _ in range(12)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(401) == settings.login_max_per_account
    assert codes.count(429) == 12 - settings.login_max_per_account


async def test_staff_change_their_own_password_and_other_sessions_end(client: Client, acme: Business) -> None:
    here = await login(client, "acme", acme.owner_email)
    there = await login(client, "acme", acme.owner_email)
    headers = bearer(here["access_token"])
    change = "/auth/password/change"
    wrong = await client.post(
        change,
        json={"current_password": "nope nope nope", "new_password": "x" * 12},
        headers=headers,
    )
    assert wrong.status_code == 401
    weak = await client.post(
        change, json={"current_password": PASSWORD, "new_password": "short"}, headers=headers
    )
    assert weak.json()["code"] == "weak_password"
    done = await client.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "new_password": "brand new secret"},
        headers=headers,
    )
    assert done.status_code == 204
    assert (
        await client.post("/auth/refresh", json={"refresh_token": there["refresh_token"]})
    ).status_code == 401
    await login(client, "acme", acme.owner_email, "brand new secret")
