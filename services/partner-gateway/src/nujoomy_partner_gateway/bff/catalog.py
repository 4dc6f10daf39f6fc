"""Rewards and locations (manager+) and staff (owner only): a list with a create form, and per row an
edit form and the actions (archive, change role, disable). Every form posts, then redirects back with
a notice, or with the error and what was typed (bff/flash.py).

Rewards and locations belong to the program, which test mode shares with live (docs/decisions.md): in
test mode each change to them asks first, saying that it changes the live program."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from nujoomy_kit.problems import InvalidInput, NotFound
from nujoomy_kit.tokens import Role

from nujoomy_partner_gateway.bff.confirm import unconfirmed
from nujoomy_partner_gateway.bff.errors import BackendError, BackendUnavailable
from nujoomy_partner_gateway.bff.flash import Flash, redirect_with, typed
from nujoomy_partner_gateway.bff.rendering import message_for, page
from nujoomy_partner_gateway.bff.session import StaffSession, check_csrf, current_lang, require_session

ROLES = ["staff", "manager", "owner"]


class Field(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    label: str
    type: str = "text"
    required: bool = False
    options: tuple[str, ...] = ()  # a select; each option is shown as t(f"{name}_{option}")
    maximum: int = 200


class Column(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    label: str
    shown: str = "text"  # text | yes_no | role


class Action(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    label: str
    question: str | None = None  # destructive: asks first (bff/confirm.py)
    options: tuple[str, ...] = ()  # a select named "value" sent with the action


class Kind(msgspec.Struct, kw_only=True, frozen=True):
    role: Role
    path: str
    columns: tuple[Column, ...]
    fields: tuple[Field, ...]  # the create form
    editable: tuple[Field, ...] = ()  # the per-row edit form
    actions: tuple[Action, ...] = ()
    shares_live_program: bool = False
    created: str = "created_notice"


NAME = Field(name="name", label="title", required=True, maximum=120)
COST = Field(name="cost", label="cost", type="number", required=True)
ADDRESS = Field(name="address", label="address", maximum=500)

KINDS: dict[str, Kind] = {
    "rewards": Kind(
        role="manager",
        path="/internal/v1/rewards",
        columns=(
            Column(name="name", label="title"),
            Column(name="cost", label="cost"),
            Column(name="active", label="active", shown="yes_no"),
        ),
        fields=(NAME, COST),
        editable=(NAME, COST),
        actions=(Action(name="archive", label="archive", question="confirm_archive_reward"),),
        shares_live_program=True,
    ),
    "locations": Kind(
        role="manager",
        path="/internal/v1/locations",
        columns=(Column(name="name", label="title"), Column(name="address", label="address")),
        fields=(NAME, ADDRESS),
        editable=(NAME, ADDRESS),
        actions=(Action(name="archive", label="archive", question="confirm_archive_location"),),
        shares_live_program=True,
    ),
    "staff": Kind(
        role="owner",
        path="/internal/v1/staff",
        columns=(
            Column(name="name", label="name"),
            Column(name="email", label="email"),
            Column(name="role", label="role", shown="role"),
            Column(name="disabled", label="disabled", shown="yes_no"),
        ),
        fields=(
            Field(name="name", label="name", maximum=120),
            Field(name="email", label="email", type="email", required=True),
            Field(name="role", label="role", options=tuple(ROLES)),
        ),
        actions=(
            Action(name="role", label="change_role", options=tuple(ROLES)),
            Action(name="disable", label="disable", question="confirm_disable_staff"),
        ),
        created="invited_notice",
    ),
}


def _kind_of(request: Request[Any, Any, Any]) -> str:
    return request.url.path.split("/")[2]  # /app/{kind}/...


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise NotFound("No such page")
    return KINDS[kind]


@get([f"/app/{kind}" for kind in KINDS])
async def collection_page(request: Request[Any, Any, Any]) -> Response[Any]:
    kind = _kind_of(request)
    spec = _kind(kind)
    session = await require_session(request, spec.role)
    found = await session.backends(request).get("tenant", spec.path)
    return page(request, session, "collection.html.j2", kind=kind, spec=spec, rows=found.get("data") or [])


def _body(spec_fields: tuple[Field, ...], form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {f.name: str(form.get(f.name, "")).strip() for f in spec_fields}
    if "cost" in body:
        try:
            body["cost"] = int(body["cost"])
        except ValueError as exc:
            raise InvalidInput("Cost must be a whole number", field="cost") from exc
    for f in spec_fields:
        if f.options and body[f.name] not in f.options:
            raise InvalidInput(f"{f.name} is one of {', '.join(f.options)}", field=f.name)
    return body


async def _write(
    request: Request[Any, Any, Any],
    kind: str,
    call: Any,
    notice: str,
    question: str | None = None,
) -> Response[Any]:
    """CSRF, the question (a destructive action, or any program change in test mode), the call, then
    303 back to the list with the notice — or the error and the typed values."""
    spec = _kind(kind)
    session = await require_session(request, spec.role)
    form = await request.form()
    await check_csrf(request, session, str(form.get("_csrf", "")))
    back = f"/app/{kind}"
    if question is None and spec.shares_live_program and session.mode == "test":
        question = "confirm_live_change"
    if question and (asked := await unconfirmed(request, session, question, back=back)):
        return asked
    subject = session.principal.subject
    try:
        answer = await call(session, form)
    except (BackendError, BackendUnavailable, InvalidInput) as exc:
        flash = Flash(error=message_for(exc, current_lang(request)), form=typed(form))
        return await redirect_with(request, subject, back, flash)
    # An invite answers a one-time password link: shown once, like an API key secret.
    link = answer.get("password_url") if isinstance(answer, dict) else None
    return await redirect_with(request, subject, back, Flash(notice=notice, link=link))


@post([f"/app/{kind}" for kind in KINDS])
async def create(request: Request[Any, Any, Any]) -> Response[Any]:
    kind = _kind_of(request)
    spec = _kind(kind)

    async def call(session: StaffSession, form: Any) -> Any:
        return await session.backends(request).post("tenant", spec.path, _body(spec.fields, form))

    return await _write(request, kind, call, spec.created)


@post([f"/app/{kind}/{{row_id:str}}/edit" for kind, spec in KINDS.items() if spec.editable])
async def edit(request: Request[Any, Any, Any], row_id: str) -> Response[Any]:
    kind = _kind_of(request)
    spec = _kind(kind)
    if not spec.editable:
        raise NotFound("No such page")

    async def call(session: StaffSession, form: Any) -> Any:
        return await session.backends(request).patch(
            "tenant", f"{spec.path}/{row_id}", _body(spec.editable, form)
        )

    return await _write(request, kind, call, "saved_notice")


@post([f"/app/{kind}/{{row_id:str}}/{{action:str}}" for kind in KINDS])
async def row_action(request: Request[Any, Any, Any], row_id: str, action: str) -> Response[Any]:
    kind = _kind_of(request)
    spec = _kind(kind)
    chosen = next((a for a in spec.actions if a.name == action), None)
    if chosen is None:
        raise NotFound("No such action")
    target = f"{spec.path}/{row_id}"

    async def call(session: StaffSession, form: Any) -> Any:
        backends = session.backends(request)
        if action == "archive":
            return await backends.delete("tenant", target)
        if action == "role":
            role = str(form.get("value", ""))
            if role not in ROLES:
                raise InvalidInput("role is staff, manager or owner", field="value")
            return await backends.patch("tenant", target, {"role": role})
        return await backends.patch("tenant", target, {"disabled": True})

    notices = {"archive": "archived_notice", "role": "saved_notice", "disable": "disabled_notice"}
    return await _write(request, kind, call, notices[action], chosen.question)


ROUTES = [collection_page, create, edit, row_action]
