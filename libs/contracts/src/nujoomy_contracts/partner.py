"""Events published by the partner gateway."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

WEBHOOK_ENDPOINT_DISABLED = "partner.webhook_endpoint.disabled"


class WebhookEndpointDisabled(msgspec.Struct, kw_only=True):
    endpoint_id: uuid.UUID
    url: str
    reason: str
    disabled_at: datetime
