"""The notification service's consumer purposes: one durable queue each.

`notification.events` keeps the contact and tenant projections and decides messages. It only
writes rows (queued or suppressed); the sender (delivery/sender.py) sends them, so a slow SMTP
server never holds up consumption. It consumes in batches (nujoomy_messaging's opt-in batching):
a batch is one transaction — one inbox insert, one balance update, one facts read, one daily-cap
upsert, one messages insert, one commit — and a batch that fails is applied again one event at a
time, the per-event handler being the same code on a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nujoomy_contracts import Envelope, ledger, tenant
from nujoomy_kit.resources import internal_issuer
from nujoomy_messaging import ConsumerSpec
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_notification.db import projections
from nujoomy_notification.db.facts import Facts, read_facts
from nujoomy_notification.db.messages import scrub_member
from nujoomy_notification.db.projections import MemberKey
from nujoomy_notification.domain.kinds import Kind
from nujoomy_notification.domain.policy import newly_affordable, tenant_zone
from nujoomy_notification.events.planning import Intent, Planner
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
    ledger.CARD_RESENT,
    ledger.TRANSACTION_POSTED,
    ledger.REWARD_REDEEMED,
    ledger.POINTS_EXPIRING,
)


# Events that are planned into messages (or only note a balance), and the kinds whose template
# overrides planning them may need.
Planned = (
    ledger.MemberEnrolled
    | ledger.CardResent
    | ledger.TransactionPosted
    | ledger.RewardRedeemed
    | ledger.PointsExpiring
)
# A card asked for again (ledger.card.resent) is the welcome message again, card links and all.
_Welcome = ledger.MemberEnrolled | ledger.CardResent


def _kinds(data: Planned) -> tuple[Kind, ...]:
    if isinstance(data, _Welcome):
        return ("welcome",)
    if isinstance(data, ledger.TransactionPosted):
        return ("points_earned", "reward_affordable", "transaction_reversed")
    if isinstance(data, ledger.RewardRedeemed):
        return ("reward_redeemed",)
    return ("points_expiring",)


def _member_id(data: Planned) -> Any:
    return data.member.member_id if isinstance(data, _Welcome) else data.member_id


class EventHandlers:
    def __init__(self, planner: Planner, wallet: WalletLinkClient) -> None:
        self.planner = planner
        self.wallet = wallet

    async def __call__(self, db: AsyncSession, event: Envelope[Any]) -> None:
        """The per-event path (the consumer's fallback when a batch fails): a batch of one."""
        await self.apply(db, [event])

    async def apply(self, db: AsyncSession, events: Sequence[Envelope[Any]]) -> None:
        """Apply `events` in arrival order, with the effect of applying them one after another."""
        batch = _Batch(self, db)
        for event in events:
            await batch.add(event)
        await batch.flush()

    async def plan(self, db: AsyncSession, events: list[Envelope[Any]]) -> None:
        """Balances, then one facts read for every member, then the messages of all `events`."""
        noted = [
            ((e.tenant_id, e.mode, e.data.member_id), e.data.balance_after, e.data.posted_at)
            for e in events
            if isinstance(e.data, ledger.TransactionPosted)
        ]
        await projections.note_balances(db, noted)
        members = {(e.tenant_id, e.mode, _member_id(e.data)) for e in events}
        kinds = {kind for e in events for kind in _kinds(e.data)}
        facts = await read_facts(db, members, kinds)
        intents = [intent for e in events for intent in self._intents(e, facts)]
        if intents:
            await self.planner.plan(db, intents, facts)

    def _intents(self, event: Envelope[Any], facts: Facts) -> list[Intent]:
        data = event.data

        def intent(kind: Kind, values: dict[str, Any], member_id: Any = None) -> Intent:
            return Intent(
                event_id=event.id,
                tenant_id=event.tenant_id,
                mode=event.mode,
                member_id=member_id or data.member_id,
                kind=kind,
                values=values,
                occurred_at=event.occurred_at,
            )

        if isinstance(data, _Welcome):
            welcome = intent("welcome", {}, data.member.member_id)
            welcome.lazy = self._links(event, data.member.member_id)
            return [welcome]
        if isinstance(data, ledger.RewardRedeemed):
            return [intent("reward_redeemed", {"reward_name": data.reward_name, "points": data.points})]
        if isinstance(data, ledger.PointsExpiring):
            zone = tenant_zone(facts.tenant(event.tenant_id, event.mode).timezone)
            expires_on = data.expires_at.astimezone(zone).date().isoformat()
            return [intent("points_expiring", {"points": data.points, "expires_on": expires_on})]
        if not isinstance(data, ledger.TransactionPosted):
            return []
        if data.kind == "reverse":
            values = {"points": abs(data.points), "reason": data.reason, "balance": data.balance_after}
            return [intent("transaction_reversed", values)]
        if data.kind != "earn" or data.points <= 0:
            return []  # only the balance is noted
        earned = {"points": data.points, "reference": data.reference, "balance": data.balance_after}
        out = [intent("points_earned", earned)]
        rewards = facts.tenant(event.tenant_id, event.mode).rewards
        reward = newly_affordable(rewards, data.balance_after - data.points, data.balance_after)
        if reward is not None:
            nudge = {"reward_name": reward.name, "reward_cost": reward.cost, "balance": data.balance_after}
            out.append(intent("reward_affordable", nudge))
        return out

    def _links(self, event: Envelope[Any], member_id: Any) -> Any:
        async def links() -> dict[str, Any]:
            # Raises WalletPassUnavailable: the whole event (projection included) rolls back and retries.
            found = await self.wallet.links(event.tenant_id, event.mode, member_id)
            return {
                "apple_pass_url": found.apple_pass_url,
                "google_save_url": found.google_save_url,
                "card_url": found.card_url or found.apple_pass_url,
            }

        return links


class _Batch:
    """What a batch has gathered but not yet written. Contact upserts and planned events wait so
    that each goes to the database in one statement; anything whose outcome depends on what is
    waiting writes it first (flush), so the result is the one of applying the events in order."""

    def __init__(self, handlers: EventHandlers, db: AsyncSession) -> None:
        self.handlers, self.db = handlers, db
        self.contacts: dict[MemberKey, ledger.Member] = {}
        self.planned: list[Envelope[Any]] = []
        self.planned_members: set[MemberKey] = set()

    async def add(self, event: Envelope[Any]) -> None:
        db, tid, mode, data = self.db, event.tenant_id, event.mode, event.data
        if isinstance(data, ledger.MemberEnrolled | ledger.MemberUpdated):
            key = (tid, mode, data.member.member_id)
            if key in self.planned_members:
                await self.flush()  # an event before this one must see the contact as it was
            self.contacts[key] = data.member  # of two changes to one member, the later wins
            if isinstance(data, ledger.MemberEnrolled):
                self._plan(event, key)
        elif isinstance(data, ledger.CardResent):
            self._plan(event, (tid, mode, data.member.member_id))
        elif isinstance(data, ledger.TransactionPosted | ledger.RewardRedeemed | ledger.PointsExpiring):
            self._plan(event, (tid, mode, data.member_id))
        else:
            # Tenant facts and erasures are rare: written in place, after everything before them.
            await self.flush()
            if isinstance(data, tenant.Tenant):
                await projections.upsert_tenant(db, tid, mode, data)
            elif isinstance(data, tenant.Program):
                await projections.apply_program(db, tid, mode, data)
            elif isinstance(data, ledger.MemberErased):
                await projections.clear_member(db, tid, mode, data.member_id)
                await scrub_member(db, tid, mode, data.member_id)

    def _plan(self, event: Envelope[Any], key: MemberKey) -> None:
        self.planned.append(event)
        self.planned_members.add(key)

    async def flush(self) -> None:
        # Contacts first: every waiting upsert came before every waiting event of its member.
        await projections.upsert_contacts(self.db, self.contacts)
        self.contacts = {}
        if self.planned:
            planned, self.planned = self.planned, []
            self.planned_members = set()
            await self.handlers.plan(self.db, planned)


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
            batch_handler=handlers.apply,
            batch_size=settings.consumer_batch,
            batch_linger=settings.consumer_linger_s,
            concurrency=settings.consumer_concurrency,
            retry_delays_ms=tuple(int(s * 1000) for s in settings.event_retry_delays()),
        )
    ]


# The names the CLI knows for dead-letter inspection (`nujoomy dlq list`).
CONSUMER_NAMES: tuple[str, ...] = (EVENTS,)
