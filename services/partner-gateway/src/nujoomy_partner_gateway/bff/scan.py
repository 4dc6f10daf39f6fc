"""The counter scanner: the page, and the JSON calls its script makes (look up, earn, redeem, undo).

Each write carries the idempotency key the browser generated for that action and reuses on every
retry, so a flaky connection can resend without posting twice (the ledger dedupes on the key).

An earn over the program's maximum needs a manager: they sign in on the scanner itself, the tenant
service checks their password, and their own short-lived access token goes to the ledger as the
approval (the ledger verifies it; nothing here is trusted on its word). Their refresh token is
revoked at once, so the counter keeps no manager session.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from nujoomy_kit.problems import InvalidInput

from nujoomy_partner_gateway.bff.address_limit import address_of
from nujoomy_partner_gateway.bff.backends import Backends
from nujoomy_partner_gateway.bff.errors import ApprovalRefused, BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.rendering import page
from nujoomy_partner_gateway.bff.session import StaffSession, check_csrf, current_lang, require_session
from nujoomy_partner_gateway.bff.sign_in import LoginForm, authenticate, count_attempt
from nujoomy_partner_gateway.web.i18n import translator

IdempotencyKey = Annotated[str, msgspec.Meta(min_length=8, max_length=200)]


class ScanAmount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(pattern=r"^\d{1,7}(\.\d{1,2})?$")]
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]


class ManagerApproval(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ScanEarn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    card_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    idempotency_key: IdempotencyKey
    amount: ScanAmount | None = None
    points: int | None = None
    approval: ManagerApproval | None = None


class ScanRedeem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    card_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    idempotency_key: IdempotencyKey
    reward_id: str | None = None
    points: int | None = None


class ScanUndo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    transaction_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    idempotency_key: IdempotencyKey


SCRIPT_STRINGS = [
    "earned",
    "redeemed",
    "undone",
    "retrying",
    "failed",
    "balance",
    "no_such_card",
    "code_ambiguous",
    "enter_amount",
    "approval_needed",
    "approval_refused",
    "approval_not_manager",
    "approved_by_manager",
    "unavailable",
]


@get("/app/scan")
async def scan_page(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await require_session(request)
    # The program says what the keypad enters (an amount in the currency, or stamps) and what the
    # balance is called; each card lookup repeats it from the ledger, which is what the earn uses.
    program: dict[str, Any] = {}
    try:
        program = await session.backends(request).get("tenant", "/internal/v1/program")
    except (BackendError, BackendUnavailable):
        program = {}
    t = translator(current_lang(request))
    return page(
        request,
        session,
        "scan.html.j2",
        currency=str(program.get("currency") or ""),
        program_type=str(program.get("type") or "points"),
        unit=str((program.get("wording") or {}).get("balance_label") or t("balance")),
        js_strings={k: t(k) for k in SCRIPT_STRINGS},
    )


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
    body = msgspec.to_builtins(data)
    body.pop("approval", None)
    if data.approval is None:
        return await session.backends(request).post("ledger", "/staff/v1/earn", body)
    tokens = await _manager_sign_in(request, session, data.approval)
    try:
        return await session.backends(request).post(
            "ledger", "/staff/v1/earn", body, headers={"Nujoomy-Approval": str(tokens["access_token"])}
        )
    finally:
        await _sign_out(request, str(tokens.get("refresh_token") or ""))


async def _manager_sign_in(
    request: Request[Any, Any, Any], session: StaffSession, approval: ManagerApproval
) -> dict[str, Any]:
    """The manager's token pair, from the tenant service's own sign-in (its password check and its
    throttle), for the business the barista is signed in to."""
    tenant = await session.backends(request).get("tenant", "/internal/v1/tenant")
    form = LoginForm(tenant=str(tenant["slug"]), email=approval.email, password=approval.password)
    # The same path as the sign-in page: counted per browser address here and at the tenant service
    # (which is told that address), never as the gateway's own address for every counter at once.
    address = address_of(request)
    try:
        await count_attempt(request, address)
        tokens = await authenticate(request, form, address)
    except BackendError as exc:
        if exc.status in (400, 401, 403, 404, 422):
            raise ApprovalRefused("The manager's email or password is wrong") from exc
        raise
    return tokens


async def _sign_out(request: Request[Any, Any, Any], refresh_token: str) -> None:
    if not refresh_token:
        return
    # If this fails the access token still lapses on its own within minutes; the approval is spent.
    with contextlib.suppress(BackendError, BackendUnavailable):
        await Backends(request.app.state).post("tenant", "/auth/logout", {"refresh_token": refresh_token})


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
