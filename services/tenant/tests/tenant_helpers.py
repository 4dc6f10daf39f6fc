"""What the tenant tests share: a business created through the service's own provisioning, sign-in."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from nujoomy_kit.db import make_engine, make_sessionmaker, transaction
from nujoomy_tenant import provisioning

PASSWORD = "correct horse battery"


class Business(msgspec.Struct):
    tenant_id: uuid.UUID
    slug: str
    owner_email: str


async def create_business(db_url: str, slug: str, *, password: str | None = PASSWORD) -> Business:
    engine = make_engine(db_url, pool_size=1)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            created = await provisioning.create_tenant(
                db,
                provisioning.NewTenant(
                    slug=slug, name=slug.title(), owner_email=f"owner@{slug}.test", owner_password=password
                ),
                invite_ttl=3600,
            )
    finally:
        await engine.dispose()
    return Business(created.tenant_id, slug, f"owner@{slug}.test")


async def login(client: AsyncTestClient, slug: str, email: str, password: str = PASSWORD) -> dict:  # type: ignore[type-arg]
    response = await client.post("/auth/login", json={"tenant": slug, "email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def outbox_events(db_url: str, routing_key: str | None = None) -> list[dict[str, Any]]:
    """The events waiting in the outbox (no relay runs in these tests), oldest first."""
    import asyncpg
    from nujoomy_kit.db import plain_url

    conn = await asyncpg.connect(plain_url(db_url))
    try:
        rows = await conn.fetch("SELECT routing_key, body FROM outbox ORDER BY seq")
    finally:
        await conn.close()
    return [
        msgspec.json.decode(r["body"]) for r in rows if routing_key is None or r["routing_key"] == routing_key
    ]


async def clear_outbox(db_url: str) -> None:
    import asyncpg
    from nujoomy_kit.db import plain_url

    conn = await asyncpg.connect(plain_url(db_url))
    try:
        await conn.execute("DELETE FROM outbox")
    finally:
        await conn.close()


async def staff_session(client: AsyncTestClient, owner_token: str, slug: str, role: str) -> dict:  # type: ignore[type-arg]
    """Invite a staff member with `role`, set their password, sign them in."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@{slug}.test"
    invited = await client.post(
        "/internal/v1/staff", json={"email": email, "role": role}, headers=bearer(owner_token)
    )
    assert invited.status_code == 201, invited.text
    done = await client.post(
        "/auth/password", json={"token": invited.json()["password_token"], "password": PASSWORD}
    )
    assert done.status_code == 200, done.text
    return await login(client, slug, email)


async def owner_headers(client: AsyncTestClient, business: Business) -> dict[str, str]:  # type: ignore[type-arg]
    return bearer((await login(client, business.slug, business.owner_email))["access_token"])
