"""The sender: leases due messages (FOR UPDATE SKIP LOCKED), sends them, records what happened.

Transient failures come back after the next delay in `retry_delays_s`; after the last one, or on a
permanent refusal, the message is `failed` — the dead letters of this service, listed by
`GET /internal/v1/messages/failed` and sent again by `POST /internal/v1/messages/{msg_id}/retry`.
Test-mode messages only ever use the sandbox transports (the dev sink), never the live ones.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from nujoomy_kit.db import transaction
from nujoomy_kit.ids import encode_id
from nujoomy_kit.settling import settle_as_finished
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_notification.db.messages import Due, claim_due, settle
from nujoomy_notification.delivery.transport import DeliveryError, Outgoing, Transport
from nujoomy_notification.domain.kinds import Channel
from nujoomy_notification.events.planning import Planner

log = structlog.get_logger("nujoomy.notification.sender")

Transports = dict[tuple[str, str], Transport]  # (mode, channel) -> transport


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transports: Transports,
        planner: Planner,
        *,
        retry_delays_s: list[float],
        batch: int = 200,
        lease_s: float = 120.0,
    ) -> None:
        self._sessions = sessions
        self._transports = transports
        self._planner = planner
        self._delays = list(retry_delays_s)
        self._batch = batch
        self._lease = timedelta(seconds=lease_s)
        self.sent = 0
        self.failed = 0

    async def drain(self) -> int:
        """Send everything due now; returns how many messages were settled."""
        total = 0
        while True:
            async with transaction(self._sessions) as db:
                claimed = await claim_due(db, self._batch, self._lease)
            if not claimed:
                return total
            # Each outcome is settled as soon as the server answers (nujoomy_kit.settling says why);
            # one the database refuses is written again while the lease holds.
            await settle_as_finished(
                (self._send(due, t, m) for due, t, m in claimed),
                self._settle,
                lease_s=self._lease.total_seconds(),
            )
            total += len(claimed)

    async def _settle(self, outcomes: list[tuple[Due, str | DeliveryError]]) -> None:
        """Safe to run twice with the same outcomes: each update applies only to a message still
        queued (db.messages)."""
        sent: list[tuple[uuid.UUID, str]] = []
        retry: list[tuple[uuid.UUID, float, str]] = []
        failed: list[tuple[uuid.UUID, str, str]] = []
        for due, outcome in outcomes:
            if isinstance(outcome, str):
                sent.append((due.id, outcome))
            elif outcome.transient and due.attempts <= len(self._delays):
                retry.append((due.id, self._delays[due.attempts - 1], str(outcome)))
            else:
                reason = "retries_exhausted" if outcome.transient else "rejected"
                failed.append((due.id, reason, str(outcome)))
        async with transaction(self._sessions) as db:
            await settle(db, sent, retry, failed)
        self.sent += len(sent)
        self.failed += len(failed)
        if failed:
            log.warning("messages_failed", count=len(failed), first_error=failed[0][2])

    async def _send(
        self, due: Due, tenant_id: uuid.UUID, member_id: uuid.UUID
    ) -> tuple[Due, str | DeliveryError]:
        transport = self._transports.get((due.mode, due.channel))
        if transport is None:
            return due, DeliveryError(f"no {due.channel} transport for {due.mode} mode", transient=False)
        channel: Channel = "sms" if due.channel == "sms" else "email"
        outgoing = Outgoing(
            message_id=encode_id("msg", due.id),
            recipient=due.recipient,
            subject=due.subject,
            html=due.html,
            text=due.text,
            from_name=due.from_name,
            unsubscribe_url=self._planner.unsubscribe_url(tenant_id, due.mode, member_id, channel),
        )
        try:
            return due, await transport.send(outgoing)
        except DeliveryError as exc:
            return due, exc

    async def close(self) -> None:
        for transport in {id(t): t for t in self._transports.values()}.values():
            await transport.close()
