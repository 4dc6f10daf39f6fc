"""Rewards and locations (manager+) and staff (owner only): a list and a create form each."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect
from nujoomy_kit.problems import InvalidInput
from nujoomy_kit.tokens import Role

from nujoomy_partner_gateway.bff.errors import BackendError
from nujoomy_partner_gateway.bff.rendering import message_for, page
from nujoomy_partner_gateway.bff.session import check_csrf, current_lang, require_session

KINDS: dict[str, dict[str, Any]] = {
    "rewards": {
        "role": "manager",
        "path": "/internal/v1/rewards",
        "columns": ["name", "cost", "active"],
        "fields": [
            {"name": "name", "label": "title", "type": "text", "required": True},
            {"name": "cost", "label": "cost", "type": "number", "required": True},
        ],
        "row_actions": [],
    },
    "locations": {
        "role": "manager",
        "path": "/internal/v1/locations",
        "columns": ["name", "address"],
        "fields": [
            {"name": "name", "label": "title", "type": "text", "required": True},
            {"name": "address", "label": "address", "type": "text", "required": False},
        ],
        "row_actions": [],
    },
    "staff": {
        "role": "owner",
        "path": "/internal/v1/staff",
        "columns": ["name", "email", "role", "disabled"],
        "fields": [
            {"name": "name", "label": "name", "type": "text", "required": False},
            {"name": "email", "label": "email", "type": "email", "required": True},
            {"name": "role", "label": "role", "options": ["staff", "manager", "owner"]},
        ],
        "row_actions": [
            {"action": "role", "label": "role", "options": ["staff", "manager", "owner"]},
            {"action": "disable", "label": "disable"},
        ],
    },
}


def _kind(kind: str) -> dict[str, Any]:
    if kind not in KINDS:
        from nujoomy_kit.problems import NotFound

        raise NotFound("No such page")
    return KINDS[kind]


async def _list_page(request: Request[Any, Any, Any], kind: str, **extra: Any) -> Response[Any]:
    spec = _kind(kind)
    role: Role = spec["role"]
    session = await require_session(request, role)
    found = await session.backends(request).get("tenant", spec["path"])
    return page(
        request,
        session,
        "collection.html.j2",
        kind=kind,
        rows=found.get("data") or [],
        columns=spec["columns"],
        fields=spec["fields"],
        row_actions=spec["row_actions"],
        **extra,
    )


PATHS = [f"/app/{kind}" for kind in KINDS]


@get(PATHS)
async def collection_page(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _list_page(request, request.url.path.rsplit("/", 1)[-1])


@post(PATHS)
async def create(request: Request[Any, Any, Any]) -> Response[Any]:
    kind = request.url.path.rsplit("/", 1)[-1]
    spec = _kind(kind)
    session = await require_session(request, spec["role"])
    form = dict((await request.form()).items())
    await check_csrf(request, session, str(form.get("_csrf", "")))
    body: dict[str, Any] = {f["name"]: form.get(f["name"], "") for f in spec["fields"]}
    if "cost" in body:
        try:
            body["cost"] = int(body["cost"])
        except ValueError as exc:
            raise InvalidInput("Cost must be a whole number", field="cost") from exc
    try:
        created = await session.backends(request).post("tenant", spec["path"], body)
    except BackendError as exc:
        return await _list_page(request, kind, error=message_for(exc, current_lang(request)))
    # An invite answers a one-time password link: shown once, like an API key secret.
    notice = created.get("password_url") if isinstance(created, dict) else None
    if notice:
        return await _list_page(request, kind, notice=notice)
    return Redirect(f"/app/{kind}", status_code=303)


@post("/app/staff/{staff_id:str}/{action:str}")
async def staff_action(request: Request[Any, Any, Any], staff_id: str, action: str) -> Response[Any]:
    session = await require_session(request, "owner")
    form = dict((await request.form()).items())
    await check_csrf(request, session, str(form.get("_csrf", "")))
    if action == "role":
        body: dict[str, Any] = {"role": str(form.get("value", "staff"))}
    elif action == "disable":
        body = {"disabled": True}
    else:
        raise InvalidInput("Unknown action")
    await session.backends(request).patch("tenant", f"/internal/v1/staff/{staff_id}", body)
    return Redirect("/app/staff", status_code=303)


ROUTES = [collection_page, create, staff_action]
