"""The partner-gateway service's consumer purposes: one durable queue each.

`webhooks`: every public platform event becomes an `evt_` row (the `GET /v1/events` backfill) and
one pending delivery per subscribed endpoint of its (tenant, mode), in the inbox's transaction, so
an event is fanned out exactly once however often the broker redelivers it. Events are consumed in
batches (`webhook_fan_out_batch` per transaction, one statement for the rows and deliveries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from nujoomy_contracts import Envelope
from nujoomy_kit.ids import encode_id
from nujoomy_messaging import ConsumerSpec
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.db.webhooks import record_event, record_events
from nujoomy_partner_gateway.domain.public_events import SOURCE_TYPES, public_event
from nujoomy_partner_gateway.settings import Settings

WEBHOOKS = "partner-gateway.webhooks"


def public_body(event_id: Any, type_: str, created_at: Any, data: dict[str, Any]) -> bytes:
    return msgspec.json.encode(
        {"id": encode_id("evt", event_id), "type": type_, "created_at": created_at, "data": data}
    )


async def fan_out_batch(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    """The batching consumer's path: many events, their rows and deliveries in one statement."""
    rows = []
    for envelope in envelopes:
        public = public_event(envelope.type, envelope.data)
        if public is None:
            continue
        type_, data = public
        rows.append(
            {
                "id": envelope.id,
                "tenant_id": envelope.tenant_id,
                "mode": envelope.mode,
                "type": type_,
                "body": public_body(envelope.id, type_, envelope.occurred_at, data),
            }
        )
    await record_events(session, rows)


async def fan_out(session: AsyncSession, envelope: Envelope[Any]) -> None:
    public = public_event(envelope.type, envelope.data)
    if public is None:
        return
    type_, data = public
    await record_event(
        session,
        event_id=envelope.id,  # already a UUIDv7: the evt_ id sorts by time
        tenant_id=envelope.tenant_id,
        mode=envelope.mode,
        type_=type_,
        body=public_body(envelope.id, type_, envelope.occurred_at, data),
        source_event_id=envelope.id,
    )


def consumer_specs(settings: Settings) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name=WEBHOOKS,
            routing_keys=SOURCE_TYPES,
            handler=fan_out,  # also the fallback when a batch fails
            batch_handler=fan_out_batch,
            batch_size=settings.webhook_fan_out_batch,
            concurrency=max(16, settings.webhook_fan_out_batch),
        )
    ]


# The names the CLI knows for dead-letter inspection (`nujoomy dlq list`).
CONSUMER_NAMES: tuple[str, ...] = (WEBHOOKS,)
