"""/internal/v1: earn, redeem, reverse, transaction history, rewards and reservations."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from nujoomy_kit.auth import require_role
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.api.members import reservation_out
from nujoomy_ledger.api.params import body_id, cursor, now, path_id
from nujoomy_ledger.api.schemas import (
    AdjustIn,
    EarnIn,
    Page,
    RedeemIn,
    ReservationOut,
    ReserveIn,
    ReverseIn,
    RewardOut,
    TransactionOut,
    WriteOut,
)
from nujoomy_ledger.db import ledger
from nujoomy_ledger.db.programs import get_program
from nujoomy_ledger.operations import points, reservations
from nujoomy_ledger.operations.members import get as get_member
from nujoomy_ledger.operations.posting import Posted
from nujoomy_ledger.operations.scope import Scope
from nujoomy_ledger.settings import Settings


def written(posted: Posted) -> WriteOut:
    return WriteOut(
        transaction=TransactionOut.of(posted.transaction), balance=posted.balance, replayed=posted.replayed
    )


def reverse_window(request: Request) -> timedelta:  # type: ignore[type-arg]
    settings: Settings = request.app.state["settings"]
    return timedelta(minutes=settings.reverse_window_minutes)


class PointsController(Controller):
    """Moving points by member id is the partner API's (points:write) and a manager's; staff at the
    counter move points through the scanner API (staff.py), as in the dashboard."""

    path = "/internal/v1"

    @post("/members/{member_id:str}/earn", status_code=200, guards=[require_role("manager", "points:write")])
    async def earn(self, db: AsyncSession, principal: Principal, member_id: str, data: EarnIn) -> WriteOut:
        posted = await points.earn(
            db,
            Scope.of(principal),
            points.Who(member_id=path_id("mbr", member_id)),
            key=data.idempotency_key,
            points=data.points,
            amount=data.amount.value if data.amount else None,
            currency=data.amount.currency if data.amount else None,
            reference=data.reference,
            location_id=body_id("loc", data.location_id, "location_id"),
            now=now(),
        )
        return written(posted)

    @post(
        "/members/{member_id:str}/redeem", status_code=200, guards=[require_role("manager", "points:write")]
    )
    async def redeem(
        self, db: AsyncSession, principal: Principal, member_id: str, data: RedeemIn
    ) -> WriteOut:
        posted = await points.redeem(
            db,
            Scope.of(principal),
            points.Who(member_id=path_id("mbr", member_id)),
            key=data.idempotency_key,
            points=data.points,
            reward_id=body_id("rwd", data.reward_id, "reward_id"),
            reference=data.reference,
            now=now(),
        )
        return written(posted)

    @post("/members/{member_id:str}/adjust", status_code=200, guards=[require_role("manager")])
    async def adjust(
        self, db: AsyncSession, principal: Principal, member_id: str, data: AdjustIn
    ) -> WriteOut:
        posted = await points.adjust(
            db,
            Scope.of(principal),
            points.Who(member_id=path_id("mbr", member_id)),
            key=data.idempotency_key,
            points=data.points,
            reason=data.reason,
            now=now(),
        )
        return written(posted)

    @post(
        "/transactions/{txn_id:str}/reverse",
        status_code=200,
        guards=[require_role("manager", "points:write")],
    )
    async def reverse(
        self,
        request: Request,  # type: ignore[type-arg]
        db: AsyncSession,
        principal: Principal,
        txn_id: str,
        data: ReverseIn,
    ) -> WriteOut:
        posted = await points.reverse(
            db,
            Scope.of(principal),
            path_id("txn", txn_id),
            key=data.idempotency_key,
            reason=data.reason,
            now=now(),
            window=reverse_window(request),
        )
        return written(posted)

    @get("/members/{member_id:str}/transactions", guards=[require_role("staff", "members:read")])
    async def transactions(
        self,
        db: AsyncSession,
        principal: Principal,
        member_id: str,
        cursor_: Annotated[str | None, Parameter(query="cursor")] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> Page:
        scope = Scope.of(principal)
        member = await get_member(db, scope, path_id("mbr", member_id))
        rows = await ledger.member_transactions(
            db, scope.tenant_id, scope.mode, member.id, before=cursor("txn", cursor_), limit=limit + 1
        )
        page = [TransactionOut.of(t) for t in rows[:limit]]
        return Page(data=page, next_cursor=page[-1].id if len(rows) > limit else None)

    @get("/rewards", guards=[require_role("manager", "program:read")])
    async def rewards(self, db: AsyncSession, principal: Principal) -> Page:
        scope = Scope.of(principal)
        program = await get_program(db, scope.tenant_id, scope.mode)
        return Page(data=[RewardOut.of(r) for r in (program.rewards if program else [])], next_cursor=None)

    @post(
        "/members/{member_id:str}/reservations",
        status_code=201,
        guards=[require_role("manager", "points:write")],
    )
    async def reserve(
        self,
        request: Request,  # type: ignore[type-arg]
        db: AsyncSession,
        principal: Principal,
        member_id: str,
        data: ReserveIn,
    ) -> ReservationOut:
        settings: Settings = request.app.state["settings"]
        reward_id = body_id("rwd", data.reward_id, "reward_id")
        assert reward_id is not None  # reward_id is a required field
        reservation, balance = await reservations.issue(
            db,
            Scope.of(principal),
            points.Who(member_id=path_id("mbr", member_id)),
            reward_id=reward_id,
            key=data.idempotency_key,
            now=now(),
            ttl=timedelta(minutes=settings.reservation_ttl_minutes),
        )
        return reservation_out(reservation, balance)

    @post(
        "/reservations/{rsv_id:str}/redeem", status_code=200, guards=[require_role("manager", "points:write")]
    )
    async def redeem_reservation(self, db: AsyncSession, principal: Principal, rsv_id: str) -> WriteOut:
        return written(await reservations.redeem(db, Scope.of(principal), path_id("rsv", rsv_id)))

    @post(
        "/reservations/{rsv_id:str}/void", status_code=200, guards=[require_role("manager", "points:write")]
    )
    async def void_reservation(self, db: AsyncSession, principal: Principal, rsv_id: str) -> ReservationOut:
        reservation, balance = await reservations.void(
            db, Scope.of(principal), path_id("rsv", rsv_id), "cancelled"
        )
        return reservation_out(reservation, balance)
