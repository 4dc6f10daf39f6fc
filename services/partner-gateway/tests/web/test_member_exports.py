"""The CSV exports through the BFF: manager and above only, and only the signed-in business's
members and mode."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
from nujoomy_testing.tokens import TestTokens
from nujoomy_testing.web import post_login

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import PASSWORD, Stack, add_staff, create_business


async def test_exports_are_for_managers_and_hold_only_their_business_and_mode(
    stack: Stack, stack_web: Any, tokens: TestTokens
) -> None:
    mine = await create_business(stack.tenant_db, "tannery")
    other = await create_business(stack.tenant_db, "forge")
    for business, mode, name in (
        (mine, "live", "Mine"),
        (mine, "test", "Test one"),
        (other, "live", "Theirs"),
    ):
        headers = tokens.headers(tokens.internal(business.tenant_id, mode, to="ledger"))  # type: ignore[arg-type]
        async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
            assert (await ledger.post("/internal/v1/members", json={"name": name})).status_code == 201
    await add_staff(stack.tenant_db, mine, "hand@tannery.test", "staff")

    web = stack_web
    await post_login(web, "tannery", "hand@tannery.test", PASSWORD)
    for path in ("/app/exports/members.csv", "/app/exports/transactions.csv"):
        assert (await web.get(path)).status_code == 403, path
    await web.post("/app/logout", data={"_csrf": web.cookies.get("nj_csrf")})
    web.cookies.clear()

    await post_login(web, "tannery", mine.owner_email, PASSWORD)
    exported = await web.get("/app/exports/members.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="members-live-' in exported.headers["content-disposition"]
    names = [line.split(",")[1] for line in exported.text.splitlines()[1:]]
    assert names == ["Mine"]
