"""The counter scanner: the page, and the JSON calls its script makes (look up, earn, redeem, undo).

Each write carries the idempotency key the browser generated for that action and reuses on every
retry, so a flaky connection can resend without posting twice (the ledger dedupes on the key).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from nujoomy_kit.problems import InvalidInput

from nujoomy_partner_gateway.bff.rendering import page
from nujoomy_partner_gateway.bff.session import check_csrf, require_session

IdempotencyKey = Annotated[str, msgspec.Meta(min_length=8, max_length=200)]


class ScanAmount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(pattern=r"^\d{1,7}(\.\d{1,2})?$")]
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]


class ScanEarn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    card_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    idempotency_key: IdempotencyKey
    amount: ScanAmount | None = None
    points: int | None = None


class ScanRedeem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    card_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    idempotency_key: IdempotencyKey
    reward_id: str | None = None
    points: int | None = None


class ScanUndo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    transaction_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    idempotency_key: IdempotencyKey


@get("/app/scan")
async def scan_page(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await require_session(request)
    currency = "EUR"
    try:
        tenant = await session.backends(request).get("tenant", "/internal/v1/tenant")
        currency = str(tenant.get("currency") or currency)
    except Exception:
        currency = "EUR"
    from nujoomy_partner_gateway.bff.session import current_lang
    from nujoomy_partner_gateway.web.i18n import translator

    t = translator(current_lang(request))
    keys = ["earned", "redeemed", "undone", "retrying", "failed", "balance"]
    return page(request, session, "scan.html.j2", currency=currency, js_strings={k: t(k) for k in keys})


@get("/bff/scan/cards/{card_token:str}")
async def scan_card(request: Request[Any, Any, Any], card_token: str) -> Any:
    session = await require_session(request)
    return await session.backends(request).get("ledger", f"/staff/v1/cards/{card_token}")


@post("/bff/scan/earn", status_code=200)
async def scan_earn(request: Request[Any, Any, Any], data: ScanEarn) -> Any:
    session = await require_session(request)
    await check_csrf(request, session)
    if (data.amount is None) == (data.points is None):
        raise InvalidInput("Give an amount or points", field="amount")
    return await session.backends(request).post("ledger", "/staff/v1/earn", msgspec.to_builtins(data))


@post("/bff/scan/redeem", status_code=200)
async def scan_redeem(request: Request[Any, Any, Any], data: ScanRedeem) -> Any:
    session = await require_session(request)
    await check_csrf(request, session)
    return await session.backends(request).post("ledger", "/staff/v1/redeem", msgspec.to_builtins(data))


@post("/bff/scan/undo", status_code=200)
async def scan_undo(request: Request[Any, Any, Any], data: ScanUndo) -> Any:
    session = await require_session(request)
    await check_csrf(request, session)
    body = {**msgspec.to_builtins(data), "reason": "undone at the counter"}
    return await session.backends(request).post("ledger", "/staff/v1/reverse", body)


ROUTES = [scan_page]
JSON_ROUTES = [scan_card, scan_earn, scan_redeem, scan_undo]
