"""Bytes that are not UTF-8 in a JSON body are the client's mistake: 400 problem+json, in every
service (they all map errors through nujoomy_kit.problems), not a 500."""

from __future__ import annotations

import msgspec
from litestar import Litestar, get, post
from litestar.testing import AsyncTestClient
from nujoomy_kit.problems import exception_handlers


class Member(msgspec.Struct):
    name: str


@post("/members")
async def create(data: Member) -> dict[str, str]:
    return {"name": data.name}


@get("/decode")
async def decode_ours() -> None:
    b"\xff".decode()  # our own bug, not the client's


async def test_a_json_body_that_is_not_utf8_is_a_400_problem() -> None:
    app = Litestar([create, decode_ours], exception_handlers=exception_handlers())
    async with AsyncTestClient(app) as client:
        for body in (b'{"name": "\xff\xfe"}', b'{"name": "ok\xc3"}'):
            answer = await client.post("/members", content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 400, (body, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"] == "invalid_input"
        assert (await client.post("/members", json={"name": "Ayşe"})).json() == {"name": "Ayşe"}
        assert (await client.get("/decode")).status_code == 500
