"""/staff/v1: the counter scanner. Every write answers with the new balance in the same response,
so the scanner shows it without a second request."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import encode_id
from nujoomy_kit.problems import InvalidInput
from nujoomy_kit.tokens import Principal, TokenError, TokenVerifier
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_ledger.api.params import body_id, now, path_id
from nujoomy_ledger.api.points import reverse_window, written
from nujoomy_ledger.api.schemas import (
    CardSummary,
    RewardOut,
    StaffEarnIn,
    StaffRedeemIn,
    StaffReverseIn,
    WriteOut,
)
from nujoomy_ledger.db import members
from nujoomy_ledger.db.programs import get_program
from nujoomy_ledger.domain.cards import fold_printed, looks_like_card, normalise
from nujoomy_ledger.domain.earning import transaction_maximum
from nujoomy_ledger.domain.errors import ApprovalInvalid, CardCodeAmbiguous, CardNotFound
from nujoomy_ledger.domain.rewards import affordable
from nujoomy_ledger.operations import points
from nujoomy_ledger.operations.scope import Scope


def who(card_token: str | None, member_id: str | None) -> points.Who:
    if (card_token is None) == (member_id is None):
        raise InvalidInput("Give either card_token or member_id", field="card_token")
    if card_token is not None:
        token = normalise(card_token)
        if not looks_like_card(token):
            raise CardNotFound("No such card")
        return points.Who(card_token=token)
    return points.Who(member_id=body_id("mbr", member_id, "member_id"))


# A manager's own access token, obtained by signing in at the counter, proves their approval; the
# ledger verifies it itself rather than trusting whoever relays it.
APPROVAL_HEADER = "nujoomy-approval"


async def approver(request: Request, principal: Principal) -> uuid.UUID | None:  # type: ignore[type-arg]
    token = request.headers.get(APPROVAL_HEADER, "").strip()
    if not token:
        return None
    verifier: TokenVerifier = request.app.state["token_verifier"]
    try:
        manager = await verifier.verify(token)
    except TokenError as exc:
        raise ApprovalInvalid("The approval does not verify") from exc
    same_business = manager.kind == "staff" and manager.tenant_id == principal.tenant_id
    if not same_business or manager.staff_id is None or not manager.has_role("manager"):
        raise ApprovalInvalid("Only a manager or owner of this business can approve")
    return manager.staff_id


async def card_token_for(db: AsyncSession, scope: Scope, typed: str) -> str:
    """The full token for what was scanned (the QR) or typed (the code printed under it)."""
    token = normalise(typed)
    if looks_like_card(token):
        return token
    folded = fold_printed(typed)
    found = await members.tokens_by_printed_code(db, scope.tenant_id, scope.mode, folded) if folded else []
    if len(found) > 1:
        raise CardCodeAmbiguous("Two cards share this printed code: scan the QR code instead")
    if not found:
        raise CardNotFound("No such card")
    return found[0]


class StaffController(Controller):
    path = "/staff/v1"
    guards = [require_role("staff")]

    @get("/cards/{card_token:str}")
    async def card(self, db: AsyncSession, principal: Principal, card_token: str) -> CardSummary:
        scope = Scope.of(principal)
        token = await card_token_for(db, scope, card_token)
        member = await members.by_card(db, scope.tenant_id, scope.mode, token)
        if member is None or member.status == "erased":
            raise CardNotFound("No such card")
        program = await get_program(db, scope.tenant_id, scope.mode)
        available = member.balance - member.reserved
        rewards = affordable(program.rewards, available, now()) if program else []
        return CardSummary(
            member_id=encode_id("mbr", member.id),
            card_token=token,
            name=member.name,
            balance=member.balance,
            available=available,
            lifetime_points=member.lifetime,
            balance_label=program.wording.balance_label if program else "Points",
            affordable_rewards=[RewardOut.of(r) for r in rewards],
            program_type=program.type if program else "points",
            currency=program.currency if program else "",
            max_per_transaction=(
                transaction_maximum(program.type, program.earn_rule.max_per_transaction) if program else 0
            ),
        )

    @post("/earn", status_code=200)
    async def earn(
        self,
        request: Request,  # type: ignore[type-arg]
        db: AsyncSession,
        principal: Principal,
        data: StaffEarnIn,
    ) -> WriteOut:
        """A staff member's earn above the program's maximum needs a manager's access token in the
        Nujoomy-Approval header (403 manager_approval_required names the maximum)."""
        approved_by = await approver(request, principal)
        posted = await points.earn(
            db,
            Scope.of(principal),
            who(data.card_token, data.member_id),
            key=data.idempotency_key,
            points=data.points,
            amount=data.amount.value if data.amount else None,
            currency=data.amount.currency if data.amount else None,
            reference=data.reference,
            location_id=body_id("loc", data.location_id, "location_id"),
            approved_by=approved_by,
            now=now(),
        )
        return written(posted)

    @post("/redeem", status_code=200)
    async def redeem(self, db: AsyncSession, principal: Principal, data: StaffRedeemIn) -> WriteOut:
        posted = await points.redeem(
            db,
            Scope.of(principal),
            who(data.card_token, data.member_id),
            key=data.idempotency_key,
            points=data.points,
            reward_id=body_id("rwd", data.reward_id, "reward_id"),
            reference=data.reference,
            now=now(),
        )
        return written(posted)

    @post("/reverse", status_code=200)
    async def reverse(
        self,
        request: Request,  # type: ignore[type-arg]
        db: AsyncSession,
        principal: Principal,
        data: StaffReverseIn,
    ) -> WriteOut:
        posted = await points.reverse(
            db,
            Scope.of(principal),
            path_id("txn", data.transaction_id),
            key=data.idempotency_key,
            reason=data.reason,
            now=now(),
            window=reverse_window(request),
        )
        return written(posted)
