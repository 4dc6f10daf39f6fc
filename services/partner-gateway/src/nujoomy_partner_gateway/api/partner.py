"""Partner API v1 routed to the ledger, tenant and wallet-pass internal APIs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import structlog
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter
from nujoomy_kit.tokens import Principal

from nujoomy_partner_gateway.api import response_docs as docs
from nujoomy_partner_gateway.api.guards import READ, WRITE
from nujoomy_partner_gateway.api.schemas import (
    EarnRequest,
    MemberRequest,
    RedeemRequest,
    ReverseRequest,
)
from nujoomy_partner_gateway.domain.errors import DownstreamUnavailable
from nujoomy_partner_gateway.domain.views import with_public_ids
from nujoomy_partner_gateway.downstream import Downstream, passthrough
from nujoomy_partner_gateway.edge.middleware import IDEMPOTENCY_SCOPE_KEY
from nujoomy_partner_gateway.ids import new_request_key

log = structlog.get_logger("nujoomy.gateway.partner")

Limit = Annotated[int, Parameter(ge=1, le=100, description="page size")]
Cursor = Annotated[str | None, Parameter(description="next_cursor from the previous page")]


def _downstream(state: State) -> Downstream:
    downstream: Downstream = state["downstream"]
    return downstream


def _idempotency_key(request: Request[Any, Any, Any]) -> str:
    """The partner's Idempotency-Key goes to the ledger, its final guard; without one each call is new."""
    key = request.scope.get(IDEMPOTENCY_SCOPE_KEY)  # type: ignore[call-overload]
    return str(key) if key else new_request_key()


def _strip_card_token(payload: dict[str, Any]) -> dict[str, Any]:
    # The card token is the QR a customer shows at the counter; partners never see it.
    payload.pop("card_token", None)
    return payload


@get(
    "/v1/program",
    guards=READ,
    tags=["program"],
    summary="The tenant's loyalty program",
    responses={200: docs.PROGRAM_SPEC},
)
async def get_program(principal: Principal, state: State) -> Response[bytes]:
    return _public(await _downstream(state).call("tenant", "GET", "/internal/v1/program", principal))


@get(
    "/v1/rewards",
    guards=READ,
    tags=["program"],
    summary="The rewards catalog",
    responses={200: docs.REWARDS_SPEC},
)
async def list_rewards(principal: Principal, state: State) -> Response[bytes]:
    return _public(await _downstream(state).call("ledger", "GET", "/internal/v1/rewards", principal))


def _public(answer: Any) -> Response[bytes]:
    if answer.status_code != 200:
        return passthrough(answer)
    return Response(
        content=msgspec.json.encode(with_public_ids(answer.json())), media_type="application/json"
    )


@post(
    "/v1/members",
    guards=WRITE,
    tags=["members"],
    summary="Enrol a member; the answer carries the Apple Wallet and Google Wallet links",
    description=(
        "One person is one member: an e-mail (compared case-blind) or phone (compared in E.164, read in "
        "the business's country) that a member already has answers 409 `member_exists` with that "
        "member's id as `member_id` in the problem body. A phone that is not a number answers 422 "
        "`invalid_phone`."
    ),
    responses={201: docs.ENROLLED_SPEC},
)
async def create_member(
    data: Annotated[
        MemberRequest,
        Body(examples=[Example(value={"name": "Lina", "email": "lina@example.com", "consent_email": True})]),
    ],
    principal: Principal,
    state: State,
) -> Response[bytes]:
    downstream = _downstream(state)
    created = await downstream.call(
        "ledger", "POST", "/internal/v1/members", principal, json=msgspec.to_builtins(data)
    )
    if created.status_code != 201:
        return passthrough(created)
    member = _strip_card_token(created.json())
    member["apple_pass_url"] = member["google_save_url"] = member["card_url"] = None
    try:
        links = await downstream.call(
            "wallet-pass", "GET", f"/internal/v1/members/{member['id']}/links", principal
        )
        if links.status_code == 200:
            found = links.json()
            member.update({k: found.get(k) for k in ("apple_pass_url", "google_save_url", "card_url")})
    except DownstreamUnavailable:
        # The member exists; the links are derivable later from GET /v1/members/{id}.
        log.warning("wallet_links_unavailable", member=member["id"])
    return Response(content=msgspec.json.encode(member), status_code=201, media_type="application/json")


@get(
    "/v1/members/{member_id:str}",
    guards=READ,
    tags=["members"],
    summary="A member with balance",
    responses={200: docs.MEMBER_SPEC},
)
async def get_member(member_id: str, principal: Principal, state: State) -> Response[bytes]:
    answer = await _downstream(state).call("ledger", "GET", f"/internal/v1/members/{member_id}", principal)
    if answer.status_code != 200:
        return passthrough(answer)
    return Response(
        content=msgspec.json.encode(_strip_card_token(answer.json())), media_type="application/json"
    )


@get(
    "/v1/members",
    guards=READ,
    tags=["members"],
    summary="Find members (cursor pagination)",
    responses={200: docs.MEMBERS_SPEC},
)
async def list_members(
    *,
    principal: Principal,
    state: State,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Response[bytes]:
    params = {"external_id": external_id, "email": email, "phone": phone, "cursor": cursor, "limit": limit}
    answer = await _downstream(state).call("ledger", "GET", "/internal/v1/members", principal, params=params)
    if answer.status_code != 200:
        return passthrough(answer)
    page = answer.json()
    page["data"] = [_strip_card_token(m) for m in page.get("data", [])]
    return Response(content=msgspec.json.encode(page), media_type="application/json")


@post(
    "/v1/members/{member_id:str}/earn",
    guards=WRITE,
    tags=["points"],
    summary="Award points, as points or from a purchase amount",
    status_code=200,
    responses={200: docs.EARN_SPEC},
)
async def earn(
    member_id: str,
    data: Annotated[
        EarnRequest,
        Body(
            examples=[
                Example(value={"amount": {"value": "12.50", "currency": "EUR"}, "reference": "order-1"})
            ]
        ),
    ],
    request: Request[Any, Any, Any],
    principal: Principal,
    state: State,
) -> Response[bytes]:
    body = {**msgspec.to_builtins(data), "idempotency_key": _idempotency_key(request)}
    return passthrough(
        await _downstream(state).call(
            "ledger", "POST", f"/internal/v1/members/{member_id}/earn", principal, json=body
        )
    )


@post(
    "/v1/members/{member_id:str}/redeem",
    guards=WRITE,
    tags=["points"],
    status_code=200,
    responses={200: docs.REDEEM_SPEC},
)
async def redeem(
    member_id: str, data: RedeemRequest, request: Request[Any, Any, Any], principal: Principal, state: State
) -> Response[bytes]:
    """Spend points, or redeem a reward from the catalog."""
    body = {**msgspec.to_builtins(data), "idempotency_key": _idempotency_key(request)}
    return passthrough(
        await _downstream(state).call(
            "ledger", "POST", f"/internal/v1/members/{member_id}/redeem", principal, json=body
        )
    )


@post(
    "/v1/transactions/{transaction_id:str}/reverse",
    guards=WRITE,
    tags=["points"],
    status_code=200,
    responses={200: docs.REVERSE_SPEC},
)
async def reverse(
    transaction_id: str,
    data: ReverseRequest,
    request: Request[Any, Any, Any],
    principal: Principal,
    state: State,
) -> Response[bytes]:
    """Reverse a transaction (a refund); the original stays, a reversing one references it."""
    body = {**msgspec.to_builtins(data), "idempotency_key": _idempotency_key(request)}
    return passthrough(
        await _downstream(state).call(
            "ledger", "POST", f"/internal/v1/transactions/{transaction_id}/reverse", principal, json=body
        )
    )


@get(
    "/v1/members/{member_id:str}/transactions",
    guards=READ,
    tags=["points"],
    responses={200: docs.TRANSACTIONS_SPEC},
)
async def member_transactions(
    member_id: str, principal: Principal, state: State, cursor: Cursor = None, limit: Limit = 20
) -> Response[bytes]:
    """A member's transactions, newest first."""
    return passthrough(
        await _downstream(state).call(
            "ledger",
            "GET",
            f"/internal/v1/members/{member_id}/transactions",
            principal,
            params={"cursor": cursor, "limit": limit},
        )
    )


HANDLERS = [
    get_program,
    list_rewards,
    create_member,
    get_member,
    list_members,
    earn,
    redeem,
    reverse,
    member_transactions,
]
