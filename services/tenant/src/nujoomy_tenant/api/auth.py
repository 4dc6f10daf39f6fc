"""Sign-in: login, refresh, logout, password set from a one-time link, and the JWKS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from nujoomy_kit.auth import require_authenticated
from nujoomy_kit.problems import Forbidden, problem_response
from nujoomy_kit.tokens import Principal, load_private_key, public_jwk
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant import sessions
from nujoomy_tenant.api.schemas import LoginIn, PasswordChangeIn, PasswordIn, RefreshIn
from nujoomy_tenant.api.throttle import LoginThrottle, client_address
from nujoomy_tenant.db import keys as key_db
from nujoomy_tenant.domain.errors import RefreshTokenReused
from nujoomy_tenant.settings import Settings


@post("/auth/login", status_code=HTTP_200_OK)
async def login(
    data: LoginIn, db: AsyncSession, state: State, request: Request[Any, Any, Any]
) -> sessions.SessionOut:
    settings: Settings = state["settings"]
    throttle = LoginThrottle(state["redis"], settings)
    ip = await client_address(request)
    await throttle.attempt(data.tenant, data.email, ip)
    staff = await sessions.authenticate(db, data.tenant, data.email, data.password)
    await throttle.succeeded(data.tenant, data.email, ip)
    return await sessions.start_session(db, staff, settings)


@post("/auth/refresh", status_code=HTTP_200_OK)
async def refresh(data: RefreshIn, db: AsyncSession, state: State, request: Request[Any, Any, Any]) -> Any:
    try:
        return await sessions.refresh(db, data.refresh_token, state["settings"])
    except RefreshTokenReused as exc:
        # Returned, not raised: raising would roll back the family revocation we must keep.
        return problem_response(exc.problem(instance=request.url.path))


@post("/auth/logout", status_code=HTTP_204_NO_CONTENT)
async def logout(data: RefreshIn, db: AsyncSession) -> None:
    await sessions.logout(db, data.refresh_token)


@post("/auth/password", status_code=HTTP_200_OK)
async def set_password(data: PasswordIn, db: AsyncSession) -> sessions.StaffOut:
    return sessions.staff_out(await sessions.set_password(db, data.token, data.password))


@post("/auth/password/change", status_code=HTTP_204_NO_CONTENT, guards=[require_authenticated])
async def change_password(data: PasswordChangeIn, db: AsyncSession, principal: Principal) -> None:
    """For a staff session only: an internal token acts for nobody in particular."""
    if principal.kind != "staff" or principal.staff_id is None:
        raise Forbidden("Only a signed-in staff member changes their own password")
    await sessions.change_password(
        db, principal.tenant_id, principal.staff_id, data.current_password, data.new_password
    )


@get("/.well-known/jwks.json")
async def jwks(db: AsyncSession, state: State) -> Response[dict[str, Any]]:
    settings: Settings = state["settings"]
    rows = await key_db.published_keys(db, datetime.now(UTC), timedelta(seconds=settings.key_overlap_seconds))
    keys = [public_jwk(load_private_key(row["private_pem"]).public_key(), row["kid"]) for row in rows]
    # Short public caching: verifiers cache on their own and refetch on an unknown kid.
    return Response({"keys": keys}, headers={"Cache-Control": "public, max-age=60"})


ROUTES = [login, refresh, logout, set_password, change_password, jwks]
