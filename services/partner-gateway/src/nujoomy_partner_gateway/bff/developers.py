"""Developers: API keys (the secret shows once), webhook endpoints and their deliveries, per mode.

Keys come from the gateway's staff API (/internal/v1/api_keys). Webhook endpoints are managed at
/internal/v1/webhook_endpoints (the staff twin of the partner's /v1 routes); while the gateway does
not serve it the section shows "unavailable" instead of failing the page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from nujoomy_kit.ids import InvalidId, decode_id
from nujoomy_kit.problems import DomainError, NotFound
from sqlalchemy import select

from nujoomy_partner_gateway.bff.confirm import unconfirmed
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.flash import Flash, redirect_with, typed
from nujoomy_partner_gateway.bff.rendering import CsrfForm, form_as, message_for, page
from nujoomy_partner_gateway.bff.session import StaffSession, check_csrf, current_lang, require_session
from nujoomy_partner_gateway.db.tables import webhook_events

PAGE = "/app/developers"
KEYS = "/internal/v1/api_keys"
HOOKS = "/internal/v1/webhook_endpoints"


class KeyForm(CsrfForm, kw_only=True):
    name: str


class EndpointForm(CsrfForm, kw_only=True):
    url: str


async def _render(request: Request[Any, Any, Any], session: StaffSession) -> Response[Any]:
    backends = session.backends(request)
    results: tuple[Any, ...] = await asyncio.gather(
        backends.get("gateway", KEYS), backends.get("gateway", HOOKS), return_exceptions=True
    )
    keys, hooks = results
    warnings: list[str] = []
    if isinstance(keys, BaseException):
        warnings.append("api keys")
        keys = {"data": []}
    if isinstance(hooks, BaseException):
        warnings.append("webhooks")
        hooks = {"data": []}
    endpoints = list(hooks.get("data") or [])
    deliveries: list[Any] = await asyncio.gather(
        *(backends.get("gateway", f"{HOOKS}/{e['id']}/deliveries", limit=10) for e in endpoints),
        return_exceptions=True,
    )
    for endpoint, found in zip(endpoints, deliveries, strict=True):
        endpoint["deliveries"] = [] if isinstance(found, BaseException) else list(found.get("data") or [])
    return page(
        request,
        session,
        "developers.html.j2",
        keys=list(keys.get("data") or []),
        endpoints=endpoints,
        warnings=warnings,
    )


@get("/app/developers")
async def developers_page(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _render(request, await require_session(request, "manager"))


async def _act(
    request: Request[Any, Any, Any],
    form_kind: type[CsrfForm],
    call: Any,
    notice: str,
    *,
    question: str | None = None,
    then: str = PAGE,
    exists: Callable[[Any], Awaitable[None]] | None = None,
) -> Response[Any]:
    """One button's round trip: CSRF, `exists` (raises NotFound for an id that is not the caller's,
    before any question), the confirmation for a destructive one, the call, then 303 back with a
    notice (and a new secret, shown once) or the error with what was typed."""
    session = await require_session(request, "manager")
    form = await form_as(request, form_kind)
    await check_csrf(request, session, form.csrf)
    if exists is not None:
        await exists(session.backends(request))
    if question and (asked := await unconfirmed(request, session, question, back=PAGE)):
        return asked
    subject = session.principal.subject
    try:
        answer = await call(session.backends(request), form)
    except (BackendError, BackendUnavailable) as exc:
        error = message_for(exc, current_lang(request))
        return await redirect_with(
            request, subject, PAGE, Flash(error=error, form=typed(await request.form()))
        )
    secret = answer.get("secret") if isinstance(answer, dict) else None
    return await redirect_with(request, subject, then, Flash(notice=notice, secret=secret))


@post("/app/developers/keys")
async def create_key(request: Request[Any, Any, Any]) -> Response[Any]:
    async def call(backends: Any, form: KeyForm) -> Any:
        name = form.name.strip()
        if not name:
            raise DomainError("A key needs a name")
        return await backends.post(
            "gateway", f"{KEYS}/", {"name": name, "scopes": ["read", "write", "webhooks"]}
        )

    return await _act(request, KeyForm, call, "key_created")


@post("/app/developers/keys/{key_id:str}/roll")
async def roll_key(request: Request[Any, Any, Any], key_id: str) -> Response[Any]:
    return await _act(
        request, CsrfForm, lambda b, _: b.post("gateway", f"{KEYS}/{key_id}/roll"), "key_rolled"
    )


@post("/app/developers/keys/{key_id:str}/revoke")
async def revoke_key(request: Request[Any, Any, Any], key_id: str) -> Response[Any]:
    async def exists(backends: Any) -> None:
        # Another business's or mode's key (or none) is not found before anything is asked.
        listed = await backends.get("gateway", KEYS)
        if not any(k.get("id") == key_id for k in listed.get("data") or []):
            raise NotFound("No such API key")

    return await _act(
        request,
        CsrfForm,
        lambda b, _: b.delete("gateway", f"{KEYS}/{key_id}"),
        "key_revoked",
        question="confirm_revoke",
        exists=exists,
    )


@post("/app/developers/webhooks")
async def add_endpoint(request: Request[Any, Any, Any]) -> Response[Any]:
    async def call(backends: Any, form: EndpointForm) -> Any:
        return await backends.post("gateway", f"{HOOKS}/", {"url": form.url.strip()})

    return await _act(request, EndpointForm, call, "endpoint_added")


# action -> (the staff API's verb, the notice, the question a destructive one asks first)
WEBHOOK_ACTIONS: dict[str, tuple[str, str, str | None]] = {
    "test": ("test", "test_sent", None),
    "rotate": ("rotate_secret", "secret_rotated", "confirm_rotate"),
    "reveal": ("secret", "secret_revealed", None),
}


@post("/app/developers/webhooks/{endpoint_id:str}/{action:str}")
async def endpoint_action(request: Request[Any, Any, Any], endpoint_id: str, action: str) -> Response[Any]:
    if action not in WEBHOOK_ACTIONS:
        raise DomainError("Unknown action")
    verb, notice, question = WEBHOOK_ACTIONS[action]
    path = f"{HOOKS}/{endpoint_id}/{verb}"
    if action == "reveal":
        return await _act(request, CsrfForm, lambda b, _: b.get("gateway", path), notice)
    return await _act(request, CsrfForm, lambda b, _: b.post("gateway", path), notice, question=question)


async def _request_body(request: Request[Any, Any, Any], session: StaffSession, event_id: str) -> str | None:
    """The body the delivery POSTed, byte for byte (the events table keeps it). Read from this service's
    own database, scoped to the session's tenant and mode: the staff API has no route that returns it."""
    try:
        event_uuid = decode_id("evt", event_id)
    except InvalidId:
        return None
    events = webhook_events.c
    query = select(events.body).where(
        events.tenant_id == session.principal.tenant_id, events.mode == session.mode, events.id == event_uuid
    )
    async with request.app.state["sessions"]() as db:
        body = (await db.execute(query)).scalar_one_or_none()
    if body is None:
        return None
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return bytes(body).decode("utf-8", "replace")


@get("/app/developers/webhooks/{endpoint_id:str}/deliveries/{delivery_id:str}")
async def delivery_page(request: Request[Any, Any, Any], endpoint_id: str, delivery_id: str) -> Response[Any]:
    """One delivery: the request body sent and, per attempt, the partner's answer."""
    session = await require_session(request, "manager")
    delivery = await session.backends(request).get(
        "gateway", f"{HOOKS}/{endpoint_id}/deliveries/{delivery_id}"
    )
    return page(
        request,
        session,
        "delivery.html.j2",
        endpoint_id=endpoint_id,
        delivery=delivery,
        request_body=await _request_body(request, session, str(delivery.get("event_id", ""))),
    )


@post("/app/developers/webhooks/{endpoint_id:str}/deliveries/{delivery_id:str}/replay")
async def replay_delivery(
    request: Request[Any, Any, Any], endpoint_id: str, delivery_id: str
) -> Response[Any]:
    path = f"{HOOKS}/{endpoint_id}/deliveries/{delivery_id}/replay"
    detail = f"{PAGE}/webhooks/{endpoint_id}/deliveries/{delivery_id}"
    return await _act(request, CsrfForm, lambda b, _: b.post("gateway", path), "replayed", then=detail)


ROUTES = [
    developers_page,
    create_key,
    roll_key,
    revoke_key,
    add_endpoint,
    endpoint_action,
    delivery_page,
    replay_delivery,
]
