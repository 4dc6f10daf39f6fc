"""The notification service's consumer purposes: one durable queue each.

`notification.events` keeps the contact and tenant projections and decides messages. It only
writes rows (queued or suppressed); the sender (delivery/sender.py) sends them, so a slow SMTP
server never holds up consumption.
"""

from __future__ import annotations

from typing import Any

from nujoomy_contracts import Envelope, ledger, tenant
from nujoomy_kit.resources import internal_issuer
from nujoomy_messaging import ConsumerSpec
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db import projections
from nujoomy_notification.db.messages import scrub_member
from nujoomy_notification.domain.policy import newly_affordable, tenant_zone
from nujoomy_notification.events.planning import Planner
from nujoomy_notification.events.wallet_links import WalletLinkClient
from nujoomy_notification.settings import SERVICE, Settings

EVENTS = "notification.events"

ROUTING_KEYS = (
    tenant.TENANT_CREATED,
    tenant.TENANT_UPDATED,
    tenant.PROGRAM_UPDATED,
    ledger.MEMBER_ENROLLED,
    ledger.MEMBER_UPDATED,
    ledger.MEMBER_ERASED,
    ledger.TRANSACTION_POSTED,
    ledger.REWARD_REDEEMED,
    ledger.POINTS_EXPIRING,
)


class EventHandlers:
    def __init__(self, planner: Planner, wallet: WalletLinkClient) -> None:
        self.planner = planner
        self.wallet = wallet

    async def __call__(self, db: AsyncSession, event: Envelope[Any]) -> None:
        tid, mode, data = event.tenant_id, event.mode, event.data
        if isinstance(data, tenant.Tenant):
            await projections.upsert_tenant(db, tid, mode, data)
        elif isinstance(data, tenant.Program):
            await projections.apply_program(db, tid, mode, data)
        elif isinstance(data, ledger.MemberEnrolled):
            await self._enrolled(db, event, data)
        elif isinstance(data, ledger.MemberUpdated):
            await projections.upsert_contact(db, tid, mode, data.member)
        elif isinstance(data, ledger.MemberErased):
            await projections.clear_member(db, tid, mode, data.member_id)
            await scrub_member(db, tid, mode, data.member_id)
        elif isinstance(data, ledger.TransactionPosted):
            await self._posted(db, event, data)
        elif isinstance(data, ledger.RewardRedeemed):
            await self._plan(
                db,
                event,
                data.member_id,
                "reward_redeemed",
                {"reward_name": data.reward_name, "points": data.points},
            )
        elif isinstance(data, ledger.PointsExpiring):
            facts = (await projections.member_facts(db, tid, mode, data.member_id, "points_expiring")).tenant
            expires_on = data.expires_at.astimezone(tenant_zone(facts.timezone)).date().isoformat()
            await self._plan(
                db,
                event,
                data.member_id,
                "points_expiring",
                {"points": data.points, "expires_on": expires_on},
            )

    async def _plan(
        self,
        db: AsyncSession,
        event: Envelope[Any],
        member_id: Any,
        kind: Any,
        values: Any,
        *,
        known: projections.MemberFacts | None = None,
    ) -> None:
        await self.planner.plan(
            db,
            known=known,
            event_id=event.id,
            tenant_id=event.tenant_id,
            mode=event.mode,
            member_id=member_id,
            kind=kind,
            values=values,
            occurred_at=event.occurred_at,
        )

    async def _enrolled(self, db: AsyncSession, event: Envelope[Any], data: ledger.MemberEnrolled) -> None:
        member = data.member
        await projections.upsert_contact(db, event.tenant_id, event.mode, member)

        async def links() -> dict[str, Any]:
            # Raises WalletPassUnavailable: the whole event (projection included) rolls back and retries.
            found = await self.wallet.links(event.tenant_id, event.mode, member.member_id)
            return {"apple_pass_url": found.apple_pass_url, "google_save_url": found.google_save_url}

        await self.planner.plan(
            db,
            event_id=event.id,
            tenant_id=event.tenant_id,
            mode=event.mode,
            member_id=member.member_id,
            kind="welcome",
            values={},
            occurred_at=event.occurred_at,
            lazy=links,
        )

    async def _posted(self, db: AsyncSession, event: Envelope[Any], data: ledger.TransactionPosted) -> None:
        tid, mode = event.tenant_id, event.mode
        if data.kind == "earn" and data.points > 0:
            known = await projections.member_facts(
                db, tid, mode, data.member_id, "points_earned", balance=(data.balance_after, data.posted_at)
            )
            await self._plan(
                db,
                event,
                data.member_id,
                "points_earned",
                {"points": data.points, "reference": data.reference, "balance": data.balance_after},
                known=known,
            )
            rewards = known.tenant.rewards
            reward = newly_affordable(rewards, data.balance_after - data.points, data.balance_after)
            if reward is not None:
                await self._plan(
                    db,
                    event,
                    data.member_id,
                    "reward_affordable",
                    {"reward_name": reward.name, "reward_cost": reward.cost, "balance": data.balance_after},
                )
        elif data.kind == "reverse":
            known = await projections.member_facts(
                db,
                tid,
                mode,
                data.member_id,
                "transaction_reversed",
                balance=(data.balance_after, data.posted_at),
            )
            await self._plan(
                db,
                event,
                data.member_id,
                "transaction_reversed",
                {"points": abs(data.points), "reason": data.reason, "balance": data.balance_after},
                known=known,
            )
        else:
            await projections.note_balance(
                db, tid, mode, data.member_id, balance=data.balance_after, at=data.posted_at
            )


def consumer_specs(settings: Settings) -> list[ConsumerSpec]:
    handlers = EventHandlers(
        Planner(settings),
        WalletLinkClient(settings.wallet_pass_url, internal_issuer(settings, subject=SERVICE)),
    )
    return [
        ConsumerSpec(
            name=EVENTS,
            routing_keys=ROUTING_KEYS,
            handler=handlers,
            concurrency=settings.consumer_concurrency,
            retry_delays_ms=tuple(int(s * 1000) for s in settings.event_retry_delays()),
        )
    ]


# The names the CLI knows for dead-letter inspection (`nujoomy dlq list`).
CONSUMER_NAMES: tuple[str, ...] = (EVENTS,)
