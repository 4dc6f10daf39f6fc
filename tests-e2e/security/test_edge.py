"""What reaches the edges of the system and must be refused: forged, expired and wrong-audience
tokens (401), oversized bodies (413), pathologically nested JSON (a 4xx problem, never a 500), the
Apple web service with a wrong `ApplePass` token (401) and webhook URLs aimed at private addresses
(refused outside dev mode). Each probe also checks that nothing was created or changed."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
from nujoomy_contracts import new_envelope
from nujoomy_contracts.ledger import MEMBER_ENROLLED, Member, MemberEnrolled
from nujoomy_contracts.tenant import PROGRAM_UPDATED
from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_kit.ids import encode_id
from nujoomy_kit.tokens import ALGORITHM, STAFF_AUDIENCE, STAFF_ISSUER
from nujoomy_testing.tokens import TestTokens

from .conftest import Stack, bearer, program

PROBLEM = "application/problem+json"


def _forged_staff_tokens(tokens: TestTokens, tenant: uuid.UUID) -> dict[str, str]:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": STAFF_ISSUER, "aud": STAFF_AUDIENCE, "sub": str(uuid.uuid4())}
    claims |= {"tid": str(tenant), "role": "owner", "iat": now, "exp": now + 600}
    good = tokens.staff(tenant, role="owner")
    header, payload, signature = good.split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    sign = {"algorithm": ALGORITHM, "headers": {"kid": tokens.staff_kid}}
    return {
        "tampered signature": f"{header}.{payload}.{flipped}",
        "tampered payload": f"{header}.{jwt.utils.base64url_encode(b'{}').decode()}.{signature}",
        "expired": tokens.staff(tenant, role="owner", ttl=-120),
        "wrong audience": jwt.encode({**claims, "aud": "nujoomy-partner"}, tokens.staff_key, **sign),
        "wrong issuer": jwt.encode({**claims, "iss": "https://evil.example"}, tokens.staff_key, **sign),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": tokens.staff_kid}),
        "unknown key": jwt.encode(
            claims,
            __import__(
                "cryptography.hazmat.primitives.asymmetric.ed25519", fromlist=["x"]
            ).Ed25519PrivateKey.generate(),
            algorithm=ALGORITHM,
            headers={"kid": tokens.staff_kid},
        ),
        "internal token tampered": tokens.internal(tenant, mode="test")[:-3] + "abc",
    }


async def test_forged_expired_and_wrong_audience_tokens_are_401(stack: Stack, tokens: TestTokens) -> None:
    forged = _forged_staff_tokens(tokens, stack.tenant)
    async with httpx.AsyncClient(base_url=stack.ledger_url, timeout=10) as ledger:
        for name, token in forged.items():
            headers = tokens.headers(token, mode="test")
            enrol = await ledger.post("/internal/v1/members", json={"name": "X"}, headers=headers)
            assert enrol.status_code == 401, (name, enrol.status_code, enrol.text)
            assert enrol.headers["content-type"].startswith(PROBLEM)
            made = await stack.gateway.post("/internal/v1/api_keys", json={"name": "x"}, headers=headers)
            assert made.status_code == 401, (name, made.status_code)
        valid = tokens.headers(tokens.staff(stack.tenant, role="owner"), mode="test")
        listed = await ledger.get("/internal/v1/members", headers=valid)
        assert listed.status_code == 200
        assert listed.json()["data"] == []  # none of the forged enrolments happened
    keys = await stack.gateway.get("/internal/v1/api_keys", headers=valid)
    assert [k["name"] for k in keys.json()["data"]] == ["probe"]  # the fixture's, nothing more
    # Partner API keys: a changed character, another prefix, a staff token in its place.
    owner = stack.keys.owner
    for key in (
        owner[:-1] + ("a" if owner[-1] != "a" else "b"),
        "nj_live_" + owner[8:],
        forged["expired"],
        "",
    ):
        response = await stack.gateway.get("/v1/rewards", headers=bearer(key))
        assert response.status_code == 401, (key[:12], response.status_code)
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_oversized_bodies_are_413_and_create_nothing(stack: Stack, tokens: TestTokens) -> None:
    huge = {"name": "x" * (2 * 1024 * 1024)}
    response = await stack.gateway.post("/v1/members", json=huge, headers=bearer(stack.keys.owner))
    assert response.status_code == 413, response.status_code
    async with httpx.AsyncClient(base_url=stack.ledger_url, timeout=30) as ledger:
        headers = tokens.headers(tokens.staff(stack.tenant, role="owner"), mode="test")
        direct = await ledger.post("/internal/v1/members", json=huge, headers=headers)
        assert direct.status_code == 413
        assert (await ledger.get("/internal/v1/members", headers=headers)).json()["data"] == []


async def test_deeply_nested_json_is_a_4xx_problem_never_a_500(stack: Stack) -> None:
    headers = {**bearer(stack.keys.owner), "content-type": "application/json"}
    for depth in (200, 100_000):
        nested_list = "[" * depth + "]" * depth
        nested_object = '{"external_id":' + '{"a":' * depth + "1" + "}" * (depth + 1)
        for body in (nested_list, nested_object, '{"name": ' + nested_list + "}"):
            for path in ("/v1/members", "/v1/webhook_endpoints"):
                response = await stack.gateway.post(path, content=body, headers=headers)
                assert 400 <= response.status_code < 500, (path, depth, response.status_code)
                assert response.headers["content-type"].startswith(PROBLEM)
    listed = await stack.gateway.get("/v1/members", headers=bearer(stack.keys.owner))
    assert listed.json()["data"] == []


async def _pass_for_new_member(stack: Stack) -> tuple[str, str]:
    """A member's Apple pass as wallet-pass holds it after member.enrolled (its own handlers)."""
    from nujoomy_wallet_pass.domain.links import pass_id
    from nujoomy_wallet_pass.events.consumers import on_member_event, on_program_updated

    member_id = uuid.uuid4()
    prog = program(stack.tenant)
    member = Member(
        member_id=member_id, program_id=prog.program_id, name="Lina", email=None, phone=None, external_id=None
    )
    engine = make_engine(stack.wallet_db, pool_size=1)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as db, db.begin():
            event = new_envelope(PROGRAM_UPDATED, prog, tenant_id=stack.tenant, mode="test")  # type: ignore[arg-type]
            await on_program_updated(stack.wallet_settings)(db, event)
        async with sessions() as db, db.begin():
            enrolled = MemberEnrolled(member=member, card_token=f"NJ1-{member_id.hex[:20]}")
            await on_member_event(
                db, new_envelope(MEMBER_ENROLLED, enrolled, tenant_id=stack.tenant, mode="test")
            )  # type: ignore[arg-type]
        async with sessions() as db:
            from sqlalchemy import text

            token = (
                await db.execute(
                    text("SELECT authentication_token FROM passes WHERE id = :id"),
                    {"id": pass_id(member_id, "apple")},
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return encode_id("pas", pass_id(member_id, "apple")), str(token)


async def test_the_apple_web_service_refuses_wrong_pass_tokens(stack: Stack) -> None:
    serial, token = await _pass_for_new_member(stack)
    other_serial, other_token = await _pass_for_new_member(stack)
    pass_type = stack.wallet_settings.pass_type_id
    register = f"/apple/v1/devices/dev-probe/registrations/{pass_type}/{serial}"
    latest = f"/apple/v1/passes/{pass_type}/{serial}"
    wrong = [
        {},
        {"Authorization": "ApplePass " + "0" * len(token)},
        {"Authorization": f"ApplePass {other_token}"},  # a real token, of another pass
        {"Authorization": f"Bearer {token}"},
        {"Authorization": f"ApplePass {token[:-1]}"},
    ]
    async with httpx.AsyncClient(base_url=stack.wallet_url, timeout=10) as wallet:
        for headers in wrong:
            refused = await wallet.post(register, json={"pushToken": "ab" * 32}, headers=headers)
            assert refused.status_code == 401, (headers, refused.status_code)
            assert (await wallet.get(latest, headers=headers)).status_code == 401
        devices = await wallet.get(f"/apple/v1/devices/dev-probe/registrations/{pass_type}")
        assert devices.status_code == 204  # nothing was registered by the refused calls
        right = {"Authorization": f"ApplePass {token}"}
        assert (await wallet.post(register, json={"pushToken": "ab" * 32}, headers=right)).status_code == 201
        assert (await wallet.get(latest, headers=right)).status_code == 200
        assert other_serial != serial


PRIVATE_URLS = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://172.16.5.4/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook",
    "http://93.184.216.34/hook",  # public, but not https
    "ftp://example.com/hook",
]


async def test_webhook_urls_to_private_addresses_are_refused(stack: Stack) -> None:
    assert stack.gateway_settings.dev_mode is False
    for url in PRIVATE_URLS:
        response = await stack.gateway.post(
            "/v1/webhook_endpoints", json={"url": url}, headers=bearer(stack.keys.owner)
        )
        assert response.status_code in (400, 422), (url, response.status_code, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    listed = await stack.gateway.get("/v1/webhook_endpoints", headers=bearer(stack.keys.owner))
    assert listed.json()["data"] == []
