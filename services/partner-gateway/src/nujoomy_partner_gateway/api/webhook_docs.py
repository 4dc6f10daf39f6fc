"""Examples of the webhook routes' answers for the OpenAPI document (their Structs: api/schemas.py)."""

from __future__ import annotations

from typing import Any

from nujoomy_partner_gateway.api import schemas
from nujoomy_partner_gateway.api.response_docs import NOW, spec

ENDPOINT_ID = "we_0353NkvBiKq0wXr1uTz3Lm"
ENDPOINT: dict[str, Any] = {
    "id": ENDPOINT_ID,
    "url": "https://pos.example/nujoomy/webhooks",
    "event_types": ["points.earned", "member.enrolled"],
    "description": "POS",
    "enabled": True,
    "disabled_reason": None,
    "mode": "test",
    "created_at": NOW,
    "secret": None,
}
WITH_SECRET = {**ENDPOINT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
DELIVERY: dict[str, Any] = {
    "id": "dlv_0353NkvBiLc5pVb2sXy4Qn",
    "endpoint_id": ENDPOINT_ID,
    "event_id": "evt_0353NkvBiH2kwRVAEcUvBp",
    "event_type": "points.earned",
    "status": "succeeded",
    "attempts": 1,
    "next_attempt_at": None,
    "last_status_code": 200,
    "created_at": NOW,
    "attempt_log": None,
}
ATTEMPT = {
    "attempted_at": NOW,
    "status_code": 200,
    "latency_ms": 41.7,
    "response_excerpt": "ok",
    "error": None,
}
PING = {**DELIVERY, "event_type": "test.ping", "status": "pending", "attempts": 0}
PING.update(next_attempt_at=NOW, last_status_code=None)

CREATED_SPEC = spec(schemas.WebhookEndpoint, "The endpoint with its signing secret, shown once", WITH_SECRET)
ENDPOINT_SPEC = spec(schemas.WebhookEndpoint, "The endpoint", ENDPOINT)
ROTATED_SPEC = spec(schemas.WebhookEndpoint, "The endpoint with its new signing secret", WITH_SECRET)
ENDPOINTS_SPEC = spec(
    schemas.WebhookEndpointList, "A page of endpoints", {"data": [ENDPOINT], "next_cursor": None}
)
DELIVERY_SPEC = spec(
    schemas.Delivery, "The delivery with every attempt", {**DELIVERY, "attempt_log": [ATTEMPT]}
)
PING_SPEC = spec(schemas.Delivery, "The test.ping delivery, queued", PING)
DELIVERIES_SPEC = spec(
    schemas.DeliveryList, "A page of deliveries, newest first", {"data": [DELIVERY], "next_cursor": None}
)
REPLAYED_SPEC = spec(schemas.ReplayResult, "How many deliveries were scheduled again", {"scheduled": 1})
