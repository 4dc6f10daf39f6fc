"""Request and response bodies of the partner API (msgspec Structs; they also make the OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Money = Annotated[str, msgspec.Meta(pattern=r"^\d{1,12}(\.\d{1,4})?$", examples=["12.50"])]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
Reference = Annotated[str, msgspec.Meta(max_length=200)]


class MemberRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    external_id: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    locale: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    consent_email: bool = False
    consent_sms: bool = False


class Amount(msgspec.Struct):
    value: Money
    currency: Currency


class EarnRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    points: Annotated[int, msgspec.Meta(gt=0)] | None = None
    amount: Amount | None = None
    reference: Reference | None = None
    location_id: str | None = None

    def __post_init__(self) -> None:
        if (self.points is None) == (self.amount is None):
            raise ValueError("give exactly one of `points` or `amount`")


class RedeemRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    points: Annotated[int, msgspec.Meta(gt=0)] | None = None
    reward_id: str | None = None
    reference: Reference | None = None

    def __post_init__(self) -> None:
        if (self.points is None) == (self.reward_id is None):
            raise ValueError("give exactly one of `points` or `reward_id`")


class ReverseRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    reason: Reference | None = None


WebhookUrl = Annotated[str, msgspec.Meta(max_length=2048, pattern=r"^https?://")]


class WebhookEndpointRequest(msgspec.Struct, kw_only=True):
    url: WebhookUrl
    # "*" subscribes to every event type, including ones added later.
    event_types: Annotated[
        list[str], msgspec.Meta(min_length=1, examples=[["points.earned", "member.enrolled"]])
    ] = msgspec.field(default_factory=lambda: ["*"])
    description: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    enabled: bool = True


class WebhookEndpoint(msgspec.Struct, kw_only=True):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    mode: str
    created_at: datetime
    secret: str | None = None  # on creation and rotation only


class WebhookEndpointList(msgspec.Struct):
    data: list[WebhookEndpoint]
    next_cursor: str | None = None


class RotateSecretRequest(msgspec.Struct, kw_only=True):
    grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=7 * 86400)] | None = None


class Attempt(msgspec.Struct, kw_only=True):
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    response_excerpt: str | None
    error: str | None


class Delivery(msgspec.Struct, kw_only=True):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    attempt_log: list[Attempt] | None = None


class DeliveryList(msgspec.Struct):
    data: list[Delivery]
    next_cursor: str | None = None


class ReplayRequest(msgspec.Struct, kw_only=True):
    since: datetime


class ReplayResult(msgspec.Struct):
    scheduled: int
