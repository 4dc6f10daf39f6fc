"""The dashboard's member list: name search (prefix, accents and case folded), pages both ways, the
CSV exports streamed in batches, and the daily report with reversals netted out."""

from __future__ import annotations

import csv
import io
from typing import Any

from ledger_helpers import Api
from nujoomy_ledger.operations import exports
from nujoomy_testing.tokens import TestTokens


async def _names(api: Api, **params: Any) -> list[str]:
    found = (await api.client.get("/internal/v1/members", params=params, headers=api.headers)).json()
    return [m["name"] for m in found["data"]]


async def test_name_search_is_a_prefix_match_folding_accents_and_case(
    api: Api, client: Any, tokens: TestTokens, tenant: Any
) -> None:
    for name in ("José Álvarez", "Joséphine", "Élodie Martin", "Bob", "سَامي", "50%_off"):
        await api.enrol(name=name)
    await Api(client, tokens, tenant, "test").enrol(name="Jose Test")
    assert await _names(api, name="jose") == ["José Álvarez", "Joséphine"]
    assert await _names(api, name="JOSE A") == ["José Álvarez"]
    assert await _names(api, name="elo") == ["Élodie Martin"]
    assert await _names(api, name="سامي") == ["سَامي"]  # harakat ignored
    assert await _names(api, name="50%") == ["50%_off"]
    assert await _names(api, name="%") == []  # a wildcard typed in the box is a literal
    assert await _names(api, name="lvarez") == []  # a prefix, not a substring


async def test_member_pages_go_forwards_and_backwards(api: Api) -> None:
    for i in range(5):
        await api.enrol(name=f"M{i}")

    async def page(**params: Any) -> dict[str, Any]:
        r = await api.client.get("/internal/v1/members", params={"limit": 2, **params}, headers=api.headers)
        return r.json()  # type: ignore[no-any-return]

    first = await page()
    assert ([m["name"] for m in first["data"]], first["prev_cursor"]) == (["M0", "M1"], None)
    second = await page(cursor=first["next_cursor"])
    assert [m["name"] for m in second["data"]] == ["M2", "M3"]
    third = await page(cursor=second["next_cursor"])
    assert ([m["name"] for m in third["data"]], third["next_cursor"]) == (["M4"], None)
    back = await page(before=third["prev_cursor"])
    assert [m["name"] for m in back["data"]] == ["M2", "M3"]
    back = await page(before=back["prev_cursor"])
    assert ([m["name"] for m in back["data"]], back["prev_cursor"]) == (["M0", "M1"], None)
    assert back["next_cursor"] == second["data"][0]["id"] or back["next_cursor"] == first["next_cursor"]


async def test_csv_exports_stream_every_row_in_batches_with_formulas_defused(
    api: Api, client: Any, tokens: TestTokens, tenant: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(exports, "BATCH", 2)
    made = [await api.enrol(name=n, email=f"m{i}@example.com") for i, n in enumerate(["Ann", "=cmd()", "Cy"])]
    await Api(client, tokens, tenant, "test").enrol(name="Other mode")
    await api.earn(made[0]["id"], points=10)
    # The exports are the dashboard's (a manager's session), not a platform or partner call.
    manager = tokens.headers(tokens.staff(tenant, role="manager"))
    r = await client.get("/internal/v1/reports/members.csv", headers=manager)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["name"] for row in rows] == ["Ann", "'=cmd()", "Cy"]
    assert [row["id"] for row in rows] == [m["id"] for m in made]
    assert rows[0]["balance"] == "10"
    r = await client.get("/internal/v1/reports/transactions.csv", headers=manager)
    txns = list(csv.DictReader(io.StringIO(r.text)))
    assert [(t["member_id"], t["kind"], t["points"]) for t in txns] == [(made[0]["id"], "earn", "10")]
    staff = tokens.headers(tokens.staff(tenant, role="staff"))
    assert (await client.get("/internal/v1/reports/members.csv", headers=staff)).status_code == 403


async def test_daily_report_nets_out_reversals_on_the_day_of_what_they_undid(
    api: Api, client: Any, tokens: TestTokens, tenant: Any
) -> None:
    manager = tokens.headers(tokens.staff(tenant, role="manager"))
    member = await api.enrol(name="A")
    await api.earn(member["id"], points=100)
    undone = (await api.redeem(member["id"], points=30)).json()
    assert (await api.reverse(undone["transaction"]["id"], reason="wrong member")).status_code == 200
    await api.redeem(member["id"], points=20)
    r = await client.get("/internal/v1/reports/daily", params={"tz": "Asia/Dubai"}, headers=manager)
    [day] = r.json()["data"]
    assert (day["issued"], day["redeemed"], day["transactions"]) == (100, 20, 2)
    bad = await client.get("/internal/v1/reports/daily", params={"tz": "Mars/Olympus"}, headers=manager)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")
