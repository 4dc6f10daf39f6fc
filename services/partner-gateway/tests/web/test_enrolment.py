"""The join page's enrolment step over the real ledger and wallet-pass: a member with a card, then both
wallet links. (The page reaches this step once the tenant's by-slug answer carries the tenant id.)"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from nujoomy_kit.ids import encode_id
from nujoomy_partner_gateway.bff.join import JoinForm, enrol
from nujoomy_testing import eventually
from nujoomy_testing.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_stack import Stack, create_business


async def test_enrolment_creates_a_member_and_answers_both_wallet_links(
    stack: Stack, stack_web: Any, tokens: TestTokens
) -> None:
    business = await create_business(stack.tenant_db, "juice")
    tenant = {"id": encode_id("ten", business.tenant_id), "slug": "juice", "name": "Juice"}
    request = SimpleNamespace(app=stack_web.app)
    form = JoinForm(name="Noor", email="noor@example.com", consent="1")
    links = await enrol(request, tenant, form, email="noor@example.com", phone=None, lang="ar")  # type: ignore[arg-type]
    assert "/apple/passes/" in links["apple_pass_url"]
    assert links["google_save_url"].startswith("https://pay.google.com/gp/v/save/")

    headers = tokens.headers(tokens.internal(business.tenant_id, "live", to="ledger"))
    async with httpx.AsyncClient(base_url=stack.ledger_url, headers=headers) as ledger:
        found = await eventually(
            lambda: ledger.get("/internal/v1/members", params={"email": "noor@example.com"}),
            lambda r: r.status_code == 200 and len(r.json()["data"]) == 1,
        )
    member = found.json()["data"][0]
    assert member["name"] == "Noor"
    assert member["consent_email"] is True
    assert member["consent_sms"] is False
    assert member["locale"] == "ar"
