"""The webhook dispatcher: attempts due deliveries, signs them (Standard Webhooks v1), logs every
attempt and schedules the next one.

The "delay queue" is the deliveries table itself: `next_attempt_at` with a partial index over the
pending rows, claimed with SKIP LOCKED, so any number of workers share the work and a schedule of
hours costs nothing while it waits. One delivery per (endpoint, event): the webhook-id is the event
id, the same on every attempt and every replay.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import structlog
from nujoomy_contracts import new_envelope
from nujoomy_contracts.partner import WEBHOOK_ENDPOINT_DISABLED, WebhookEndpointDisabled
from nujoomy_kit.ids import encode_id
from nujoomy_kit.settling import settle_as_finished
from nujoomy_messaging import add_event
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_partner_gateway.db import webhooks as db
from nujoomy_partner_gateway.domain import deliveries, signing
from nujoomy_partner_gateway.domain.errors import WebhookUrlNotAllowed
from nujoomy_partner_gateway.events.sender import WebhookSender
from nujoomy_partner_gateway.http1 import SendError
from nujoomy_partner_gateway.settings import Settings

log = structlog.get_logger("nujoomy.gateway.webhooks")


class AttemptResult(msgspec.Struct, kw_only=True):
    row: Any
    status: int | None
    latency_ms: float
    excerpt: str | None
    error: str | None
    attempted_at: datetime


class Dispatcher:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._settings = settings
        self._sessions = sessions
        # No redirects are followed: one could lead to an address the SSRF check never saw.
        self._sender = WebhookSender(timeout=settings.webhook_timeout, dev_mode=settings.dev_mode)

    async def aclose(self) -> None:
        await self._sender.aclose()

    async def drain(self) -> int:
        """Attempt everything due now, in `webhook_lanes` concurrent claim → send → record loops (so
        one lane's database round trips overlap another's HTTP); returns the attempts made."""
        lanes = await asyncio.gather(*(self._lane() for _ in range(self._settings.webhook_lanes)))
        return sum(lanes)

    async def _lane(self) -> int:
        total = 0
        lease = self._settings.webhook_lease_seconds
        while True:
            async with self._sessions() as session, session.begin():
                batch = await db.claim_due(session, self._settings.webhook_batch, timedelta(seconds=lease))
            if not batch:
                return total
            # An endpoint disabled or deleted since the delivery was scheduled gets nothing more.
            live = [row for row in batch if row.enabled]
            gone = [row for row in batch if not row.enabled]
            if gone:
                async with self._sessions() as session, session.begin():
                    await db.finish_deliveries(
                        session,
                        [
                            {
                                "delivery_id": row.id,
                                "status": "cancelled",
                                "attempts": row.attempts,
                                "next_attempt_at": None,
                                "code": None,
                            }
                            for row in gone
                        ],
                    )
            # Each outcome is recorded as soon as it is known (nujoomy_kit.settling says why).
            await settle_as_finished((self._attempt(row) for row in live), self._record_batch, lease_s=lease)
            total += len(live)

    async def _record_batch(self, results: list[AttemptResult]) -> None:
        async with self._sessions() as session, session.begin():
            await self._record(session, results)

    async def _attempt(self, row: Row[Any]) -> AttemptResult:
        now = datetime.now(UTC)
        secrets = [row.secret]
        if row.previous_secret and row.previous_secret_expires_at and row.previous_secret_expires_at > now:
            secrets.append(row.previous_secret)
        msg_id = encode_id("evt", row.event_id)
        headers = signing.headers(secrets, msg_id, int(time.time()), row.body)
        start = time.perf_counter()
        try:
            answer = await self._sender.post(row.url, row.body, headers)
        except (SendError, WebhookUrlNotAllowed) as exc:
            return AttemptResult(
                row=row,
                status=None,
                latency_ms=(time.perf_counter() - start) * 1000,
                excerpt=None,
                error=f"{type(exc).__name__}: {exc}"[:500],
                attempted_at=now,
            )
        return AttemptResult(
            row=row,
            status=answer.status,
            latency_ms=(time.perf_counter() - start) * 1000,
            excerpt=deliveries.excerpt(answer.body),
            error=None,
            attempted_at=now,
        )

    async def _record(self, session: AsyncSession, results: list[AttemptResult]) -> None:
        now = datetime.now(UTC)
        healthy: set[uuid.UUID] = set()
        disable_after = timedelta(seconds=self._settings.webhook_disable_after_seconds)
        status = {"succeeded": "succeeded", "retry": "pending", "failed": "failed", "gone": "failed"}
        outcomes = [
            (r, deliveries.judge(r.status, r.row.attempts + 1, now, self._settings.webhook_schedule))
            for r in results
        ]
        # Only outcomes that moved their delivery on count: one recorded already (a retried
        # record whose first COMMIT landed) or by another worker after the lease is not applied twice.
        applied = await db.record_attempts(
            session,
            [
                {
                    "delivery_id": r.row.id,
                    "tenant_id": r.row.tenant_id,
                    "mode": r.row.mode,
                    "attempted_at": r.attempted_at,
                    "status_code": r.status,
                    "latency_ms": r.latency_ms,
                    "response_excerpt": r.excerpt,
                    "error": r.error,
                    "status": status[outcome.verdict],
                    "attempts": r.row.attempts + 1,
                    "next_attempt_at": outcome.next_attempt_at,
                }
                for r, outcome in outcomes
            ],
        )
        for r, outcome in outcomes:
            if r.row.id not in applied:
                continue
            if outcome.verdict == "succeeded":
                healthy.add(r.row.endpoint_id)
                continue
            if outcome.verdict == "gone":
                await self._disable(session, r.row.endpoint_id, "The endpoint answered 410 Gone")
                continue
            endpoint = await db.endpoint_failed(session, r.row.endpoint_id)
            if deliveries.failing_too_long(endpoint.failing_since, now, disable_after):
                await self._disable(session, endpoint.id, "Every delivery failed for too long")
        await db.endpoint_succeeded(session, healthy)

    async def _disable(self, session: AsyncSession, endpoint_id: uuid.UUID, reason: str) -> None:
        row = await db.disable_endpoint(session, endpoint_id, reason)
        if row is None:
            return
        log.warning("webhook_endpoint_disabled", endpoint=encode_id("we", endpoint_id), reason=reason)
        envelope = new_envelope(
            WEBHOOK_ENDPOINT_DISABLED,
            WebhookEndpointDisabled(
                endpoint_id=row.id, url=row.url, reason=reason, disabled_at=datetime.now(UTC)
            ),
            tenant_id=row.tenant_id,
            mode=row.mode,
        )
        await add_event(session, envelope, f"webhook_endpoint:{row.id}")
