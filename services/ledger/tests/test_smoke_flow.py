from __future__ import annotations

from ledger_helpers import Api


async def test_enrol_earn_redeem_reverse(api: Api) -> None:
    member = await api.enrol(name="Ada", email="ada@example.com")
    assert member["card_token"].startswith("NJ1-")
    r = await api.earn(member["id"], amount={"value": "12.50", "currency": "EUR"})
    assert r.status_code == 200, r.text
    assert r.json()["balance"]["balance"] == 12
    r = await api.redeem(member["id"], points=5)
    assert r.status_code == 200, r.text
    assert r.json()["balance"]["balance"] == 7
    r = await api.reverse(r.json()["transaction"]["id"])
    assert r.status_code == 200, r.text
    assert r.json()["balance"]["balance"] == 12
