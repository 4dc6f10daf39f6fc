"""What the tenant tests share: a business created through the service's own provisioning, sign-in."""

from __future__ import annotations

import uuid

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
