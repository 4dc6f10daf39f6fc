"""The partner-gateway service's consumer purposes: one durable queue each.

`webhooks`: every public platform event becomes an `evt_` row (the `GET /v1/events` backfill) and
one pending delivery per subscribed endpoint of its (tenant, mode), in the inbox's transaction, so
an event is fanned out exactly once however often the broker redelivers it.
"""

from __future__ import annotations

from typing import Any

import msgspec
from nujoomy_contracts import Envelope
from nujoomy_kit.ids import encode_id
from nujoomy_messaging import ConsumerSpec
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.db.webhooks import record_event
from nujoomy_partner_gateway.domain.public_events import SOURCE_TYPES, public_event
from nujoomy_partner_gateway.settings import Settings

WEBHOOKS = "partner-gateway.webhooks"


def public_body(event_id: Any, type_: str, created_at: Any, data: dict[str, Any]) -> bytes:
    return msgspec.json.encode(
        {"id": encode_id("evt", event_id), "type": type_, "created_at": created_at, "data": data}
    )


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
    return [ConsumerSpec(name=WEBHOOKS, routing_keys=SOURCE_TYPES, handler=fan_out)]


# The names the CLI knows for dead-letter inspection (`nujoomy dlq list`).
CONSUMER_NAMES: tuple[str, ...] = (WEBHOOKS,)
