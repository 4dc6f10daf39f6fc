"""/internal/v1/members: enrol, look up, search, change, reissue or resend the card, GDPR export and
erasure."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import encode_id
from nujoomy_kit.tokens import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.api.params import cursor, path_id
from nujoomy_ledger.api.schemas import (
    MemberIn,
    MemberOut,
    MemberPageOut,
    MemberPatch,
    ReservationOut,
    TransactionOut,
)
from nujoomy_ledger.db import members as member_rows
from nujoomy_ledger.operations import members
from nujoomy_ledger.operations.scope import Scope

Limit = Annotated[int, Parameter(ge=1, le=100)]


class MembersController(Controller):
    """Roles as the dashboard has them (docs/internal-api.md); scopes for the partner API and the
    join and preferences pages."""

    path = "/internal/v1/members"

    @post("/", guards=[require_role("manager", "members:write")])
    async def enrol(self, db: AsyncSession, principal: Principal, data: MemberIn) -> MemberOut:
        fields = {f: getattr(data, f) for f in data.__struct_fields__}
        return MemberOut.of(await members.enrol(db, Scope.of(principal), fields))

    @get("/", guards=[require_role("staff", "members:read")])
    async def search(
        self,
        *,
        db: AsyncSession,
        principal: Principal,
        external_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        name: Annotated[str | None, Parameter(max_length=120)] = None,
        cursor_: Annotated[str | None, Parameter(query="cursor")] = None,
        before: str | None = None,
        limit: Limit = 20,
    ) -> MemberPageOut:
        scope = Scope.of(principal)
        email, phone = await members.search_form(db, scope, email=email, phone=phone)
        found = await member_rows.search(
            db,
            scope.tenant_id,
            scope.mode,
            external_id=external_id,
            email=email,
            phone=phone,
            name=name,
            after=cursor("mbr", cursor_),
            before=cursor("mbr", before),
            limit=limit,
        )
        page = [MemberOut.of(r) for r in found.rows]
        return MemberPageOut(
            data=page,
            next_cursor=page[-1].id if page and found.more_after else None,
            prev_cursor=page[0].id if page and found.more_before else None,
        )

    @get("/{member_id:str}", guards=[require_role("staff", "members:read")])
    async def show(self, db: AsyncSession, principal: Principal, member_id: str) -> MemberOut:
        return MemberOut.of(await members.get(db, Scope.of(principal), path_id("mbr", member_id)))

    @patch("/{member_id:str}", guards=[require_role("manager", "members:write")])
    async def change(
        self, db: AsyncSession, principal: Principal, member_id: str, data: MemberPatch
    ) -> MemberOut:
        member = await members.update(db, Scope.of(principal), path_id("mbr", member_id), data.changes())
        return MemberOut.of(member)

    @post("/{member_id:str}/card", status_code=200, guards=[require_role("manager", "members:write")])
    async def reissue_card(self, db: AsyncSession, principal: Principal, member_id: str) -> MemberOut:
        return MemberOut.of(await members.reissue_card(db, Scope.of(principal), path_id("mbr", member_id)))

    @post("/{member_id:str}/card/resend", status_code=202, guards=[require_role("manager", "members:write")])
    async def resend_card(self, db: AsyncSession, principal: Principal, member_id: str) -> MemberOut:
        return MemberOut.of(await members.resend_card(db, Scope.of(principal), path_id("mbr", member_id)))

    @get("/{member_id:str}/export", guards=[require_role("manager")])
    async def export(self, db: AsyncSession, principal: Principal, member_id: str) -> dict[str, Any]:
        found = await members.export(db, Scope.of(principal), path_id("mbr", member_id))
        return {
            "member": MemberOut.of(found["member"]),
            "cards": found["cards"],
            "transactions": [TransactionOut.of(t) for t in found["transactions"]],
            "reservations": [
                {**r, "id": encode_id("rsv", r["id"]), "reward_id": encode_id("rwd", r["reward_id"])}
                for r in found["reservations"]
            ],
        }

    @post("/{member_id:str}/erase", status_code=200, guards=[require_role("manager")])
    async def erase(self, db: AsyncSession, principal: Principal, member_id: str) -> MemberOut:
        return MemberOut.of(await members.erase(db, Scope.of(principal), path_id("mbr", member_id)))


def reservation_out(r: Any, balance: Any = None) -> ReservationOut:
    return ReservationOut(
        id=encode_id("rsv", r.id),
        member_id=encode_id("mbr", r.member_id),
        reward_id=encode_id("rwd", r.reward_id),
        points=r.points,
        status=r.status,
        expires_at=r.expires_at,
        balance=balance,
    )
