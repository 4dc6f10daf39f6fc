"""One person, one member per tenant and mode: contacts are stored canonical (e-mail lower-case, phone
E.164 read in the tenant's country) and unique; a known contact answers 409 member_exists naming
the member; the card can be sent again (ledger.card.resent)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from ledger_helpers import Api, program, project
from nujoomy_kit.db import async_url, plain_url
from nujoomy_testing.tokens import TestTokens
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def _in_france(sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID) -> None:
    prog = program(tenant, version=2)
    prog = msgspec.structs.replace(prog, tenant=msgspec.structs.replace(prog.tenant, country="FR"))
    await project(sessions, prog, "live")
    await project(sessions, prog, "test")


async def _fetch(db_url: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_a_phone_typed_the_local_way_is_stored_and_published_in_e164(
    api: Api, sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID, db_url: str
) -> None:
    await _in_france(sessions, tenant)
    member = await api.enrol(name="Inès", phone="06 12 34 56 78", email="  Ines@Example.COM ")
    assert (member["phone"], member["email"]) == ("+33612345678", "ines@example.com")
    payloads = await _fetch(
        db_url, "SELECT convert_from(body, 'UTF8') FROM outbox WHERE routing_key = 'ledger.member.enrolled'"
    )
    assert '"phone":"+33612345678"' in payloads[0][0]  # what the SMS provider will be given
    found = await api.client.get(
        "/internal/v1/members", params={"phone": "06.12.34.56.78"}, headers=api.headers
    )
    assert [m["id"] for m in found.json()["data"]] == [member["id"]]


async def test_a_number_that_is_not_one_is_a_clear_invalid_phone_not_a_regex(
    api: Api, sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID
) -> None:
    await _in_france(sessions, tenant)
    for typed in ("06 12", "12345678901234567890", "call me"):
        bad = await api.client.post("/internal/v1/members", json={"phone": typed}, headers=api.headers)
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_phone"), typed
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert "regex" not in bad.text
        assert "[0-9" not in bad.text
        assert "phone number" in bad.json()["detail"]
    bad = await api.client.post("/internal/v1/members", json={"email": "not-an-email"}, headers=api.headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_email")


async def test_without_a_country_only_numbers_with_their_country_code_are_taken(api: Api) -> None:
    bad = await api.client.post("/internal/v1/members", json={"phone": "06 12 34 56 78"}, headers=api.headers)
    assert bad.json()["code"] == "invalid_phone"
    assert "country code" in bad.json()["detail"]
    member = await api.enrol(phone="+971 50 123 4567")
    assert member["phone"] == "+971501234567"


async def test_the_same_email_or_phone_is_the_existing_member_named_in_a_409(
    api: Api, client: Any, tokens: TestTokens, sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID
) -> None:
    await _in_france(sessions, tenant)
    ada = await api.enrol(name="Ada", email="ada@example.com", phone="+33 6 12 34 56 78")
    for fields in (
        {"email": "ADA@example.com "},
        {"phone": "0612345678"},
        {"email": "x@y.fr", "phone": "06 12 34 56 78"},
    ):
        again = await client.post("/internal/v1/members", json=fields, headers=api.headers)
        assert (again.status_code, again.json()["code"]) == (409, "member_exists"), fields
        assert again.json()["member_id"] == ada["id"]
    members = await client.get("/internal/v1/members", headers=api.headers)
    assert len(members.json()["data"]) == 1  # one person, one balance
    # Another mode (and another tenant) is another world.
    other_mode = Api(client, tokens, tenant, "test")
    assert (await other_mode.enrol(email="ada@example.com"))["id"] != ada["id"]
    # A contact change onto someone else's address is refused the same way.
    bob = await api.enrol(name="Bob", email="bob@example.com")
    taken = await client.patch(
        f"/internal/v1/members/{bob['id']}", json={"email": "Ada@Example.com"}, headers=api.headers
    )
    assert (taken.status_code, taken.json()["member_id"]) == (409, ada["id"])
    same = await client.patch(
        f"/internal/v1/members/{ada['id']}", json={"email": "ADA@example.com"}, headers=api.headers
    )
    assert same.status_code == 200  # her own address, written differently, is still hers


async def test_two_enrolments_of_one_address_at_once_make_one_member(api: Api, client: Any) -> None:
    answers = await asyncio.gather(
        *(
            client.post("/internal/v1/members", json={"email": "twin@example.com"}, headers=api.headers)
            for _ in range(6)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409, 409, 409]
    created = next(a for a in answers if a.status_code == 201).json()["id"]
    assert {a.json()["member_id"] for a in answers if a.status_code == 409} == {created}


async def test_resending_the_card_publishes_card_resent_for_that_member_only(
    api: Api, client: Any, db_url: str
) -> None:
    ada = await api.enrol(name="Ada", email="ada@example.com")
    sent = await client.post(f"/internal/v1/members/{ada['id']}/card/resend", headers=api.headers)
    assert sent.status_code == 202
    rows = await _fetch(
        db_url, "SELECT convert_from(body, 'UTF8') FROM outbox WHERE routing_key = 'ledger.card.resent'"
    )
    assert len(rows) == 1
    assert "ada@example.com" in rows[0][0]
    unknown = await client.post(
        "/internal/v1/members/mbr_0000000000000000000000/card/resend", headers=api.headers
    )
    assert unknown.status_code in (404, 422)


async def test_the_migration_keeps_the_oldest_member_per_contact_and_sets_the_copies_aside(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID
) -> None:
    from alembic import command
    from alembic.config import Config

    await _in_france(sessions, tenant)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", async_url(db_url).replace("%", "%%"))
    await asyncio.to_thread(command.downgrade, cfg, "0002")
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        rows = [
            ("Ada", "Ada@Example.com", "06 12 34 56 78", "2024-01-01"),
            ("Ada again", "ada@example.com ", None, "2024-02-01"),
            ("Ada's phone", None, "+33 6 12 34 56 78", "2024-03-01"),
            ("Zed", "zed@example.com", "not a number", "2024-04-01"),
        ]
        ids = []
        for name, email, phone, created in rows:
            member_id = uuid.uuid4()
            ids.append(member_id)
            await conn.execute(
                "INSERT INTO members (id, tenant_id, mode, name, email, phone, created_at) "
                "VALUES ($1, $2, 'live', $3, $4, $5, $6::text::timestamptz)",
                member_id,
                tenant,
                name,
                email,
                phone,
                created,
            )
        await asyncio.to_thread(command.upgrade, cfg, "head")
        after = {
            r["id"]: (r["email"], r["phone"])
            for r in await conn.fetch("SELECT id, email, phone FROM members")
        }
        assert after[ids[0]] == ("ada@example.com", "+33612345678")
        assert after[ids[1]] == (None, None)
        assert after[ids[2]] == (None, None)
        assert after[ids[3]] == ("zed@example.com", "not a number")  # unreadable: left as typed
        aside = {
            (r["member_id"], r["field"]): (r["value"], r["kept_by"])
            for r in await conn.fetch("SELECT member_id, field, value, kept_by FROM member_contact_conflicts")
        }
        assert aside == {
            (ids[1], "email"): ("ada@example.com", ids[0]),
            (ids[2], "phone"): ("+33612345678", ids[0]),
        }
    finally:
        await conn.close()
