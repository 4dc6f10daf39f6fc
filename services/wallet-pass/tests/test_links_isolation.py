"""A save link asked for with another tenant's (or the other mode's) member id names an object
that is never created: nobody can add a card that is not theirs by guessing a member id."""

from __future__ import annotations

import uuid

import jwt
from litestar.testing import AsyncTestClient
from nujoomy_kit.ids import encode_id
from nujoomy_testing.tokens import TestTokens

OWNER = uuid.UUID("0190f000-0000-7000-8000-00000000c001")
OTHER = uuid.UUID("0190f000-0000-7000-8000-00000000c002")


async def _saved_object(
    client: AsyncTestClient,
    tokens: TestTokens,
    tenant: uuid.UUID,
    mode: str,  # type: ignore[type-arg]
    member: uuid.UUID,
) -> str:
    headers = tokens.headers(tokens.internal(tenant, mode))  # type: ignore[arg-type]
    response = await client.get(f"/internal/v1/members/{encode_id('mbr', member)}/links", headers=headers)
    assert response.status_code == 200, response.text
    token = response.json()["google_save_url"].rsplit("/", 1)[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    return str(claims["payload"]["loyaltyObjects"][0]["id"])


async def test_the_same_member_id_names_a_different_object_per_tenant_and_mode(
    client: AsyncTestClient,
    tokens: TestTokens,  # type: ignore[type-arg]
) -> None:
    member = uuid.uuid4()
    mine = await _saved_object(client, tokens, OWNER, "live", member)
    assert mine == await _saved_object(client, tokens, OWNER, "live", member)  # stable for its owner
    assert mine != await _saved_object(client, tokens, OTHER, "live", member)
    assert mine != await _saved_object(client, tokens, OWNER, "test", member)
