"""Webhook endpoints, their deliveries, replay and the test event (`webhooks` scope)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from nujoomy_kit.auth import require_role
from nujoomy_kit.ids import encode_id, uuid7
from nujoomy_kit.problems import InvalidInput, NotFound
from nujoomy_kit.tokens import Principal
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_partner_gateway.api import pages
from nujoomy_partner_gateway.api import webhook_docs as docs
from nujoomy_partner_gateway.api.guards import WEBHOOKS
from nujoomy_partner_gateway.api.schemas import (
    Attempt,
    Delivery,
    DeliveryList,
    ReplayRequest,
    ReplayResult,
    RotateSecretRequest,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEndpointRequest,
)
from nujoomy_partner_gateway.db import webhooks as db_webhooks
from nujoomy_partner_gateway.domain.errors import EndpointDisabled, TestModeOnly
from nujoomy_partner_gateway.domain.keys import Mode
from nujoomy_partner_gateway.domain.public_events import PUBLIC_TYPES
from nujoomy_partner_gateway.domain.signing import generate_secret
from nujoomy_partner_gateway.edge.ssrf import check_url
from nujoomy_partner_gateway.events.consumers import public_body

Limit = Annotated[int, Parameter(ge=1, le=100)]


def to_endpoint(row: Row[Any], *, with_secret: bool = False) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=encode_id("we", row.id),
        url=row.url,
        event_types=list(row.event_types),
        description=row.description,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        mode=row.mode,
        created_at=row.created_at,
        secret=row.secret if with_secret else None,
    )


def to_delivery(row: Row[Any], attempts: list[Row[Any]] | None = None) -> Delivery:
    return Delivery(
        id=encode_id("dlv", row.id),
        endpoint_id=encode_id("we", row.endpoint_id),
        event_id=encode_id("evt", row.event_id),
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        last_status_code=row.last_status_code,
        created_at=row.created_at,
        attempt_log=None
        if attempts is None
        else [
            Attempt(
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                latency_ms=a.latency_ms,
                response_excerpt=a.response_excerpt,
                error=a.error,
            )
            for a in attempts
        ],
    )


def _mode(principal: Principal) -> Mode:
    assert principal.mode is not None
    return principal.mode


async def _endpoint(db: AsyncSession, principal: Principal, endpoint_id: str) -> Row[Any]:
    row = await db_webhooks.get_endpoint(
        db, principal.tenant_id, _mode(principal), pages.object_id("we", endpoint_id, "webhook endpoint")
    )
    if row is None:
        raise NotFound("No such webhook endpoint")
    return row


def _check_types(types: list[str]) -> list[str]:
    unknown = [t for t in types if t != "*" and t not in PUBLIC_TYPES]
    if unknown:
        raise InvalidInput(f"Unknown event types: {', '.join(unknown)}", known=list(PUBLIC_TYPES))
    return sorted(set(types))


class _EndpointRoutes(Controller):
    """The routes both doors share: partners (`webhooks` scope) and the dashboard (staff, manager+)."""

    @post(
        "/",
        status_code=201,
        summary="Create an endpoint; the answer holds its signing secret, once",
        responses={201: docs.CREATED_SPEC},
    )
    async def create(
        self, data: WebhookEndpointRequest, db: AsyncSession, principal: Principal, state: State
    ) -> WebhookEndpoint:
        await check_url(data.url, dev_mode=state["settings"].dev_mode)
        row = await db_webhooks.create_endpoint(
            db,
            principal.tenant_id,
            _mode(principal),
            url=data.url,
            event_types=_check_types(data.event_types),
            description=data.description,
            enabled=data.enabled,
            secret=generate_secret(),
        )
        return to_endpoint(row, with_secret=True)

    @get("/", summary="Endpoints of this key's tenant and mode", responses={200: docs.ENDPOINTS_SPEC})
    async def list_endpoints(
        self, db: AsyncSession, principal: Principal, cursor: str | None = None, limit: Limit = 20
    ) -> WebhookEndpointList:
        rows = await db_webhooks.list_endpoints(
            db, principal.tenant_id, _mode(principal), pages.after(cursor), limit
        )
        return WebhookEndpointList(
            data=[to_endpoint(r) for r in rows], next_cursor=pages.next_cursor([r.id for r in rows], limit)
        )

    @get("/{endpoint_id:str}", responses={200: docs.ENDPOINT_SPEC})
    async def get_endpoint(self, endpoint_id: str, db: AsyncSession, principal: Principal) -> WebhookEndpoint:
        return to_endpoint(await _endpoint(db, principal, endpoint_id))

    @delete("/{endpoint_id:str}", status_code=204)
    async def delete_endpoint(self, endpoint_id: str, db: AsyncSession, principal: Principal) -> None:
        row = await _endpoint(db, principal, endpoint_id)
        await db_webhooks.update_endpoint(
            db, principal.tenant_id, _mode(principal), row.id, deleted_at=datetime.now(UTC), enabled=False
        )

    @post("/{endpoint_id:str}/rotate_secret", status_code=200, responses={200: docs.ROTATED_SPEC})
    async def rotate_secret(
        self,
        endpoint_id: str,
        db: AsyncSession,
        principal: Principal,
        state: State,
        data: RotateSecretRequest | None = None,
    ) -> WebhookEndpoint:
        """A new secret; the old one keeps signing alongside it for the grace period (default 24 h)."""
        row = await _endpoint(db, principal, endpoint_id)
        grace = data.grace_seconds if data and data.grace_seconds is not None else None
        grace = state["settings"].webhook_secret_grace_seconds if grace is None else grace
        updated = await db_webhooks.update_endpoint(
            db,
            principal.tenant_id,
            _mode(principal),
            row.id,
            secret=generate_secret(),
            previous_secret=row.secret,
            previous_secret_expires_at=datetime.now(UTC) + timedelta(seconds=grace),
        )
        assert updated is not None
        return to_endpoint(updated, with_secret=True)

    @post("/{endpoint_id:str}/enable", status_code=200, responses={200: docs.ENDPOINT_SPEC})
    async def enable(self, endpoint_id: str, db: AsyncSession, principal: Principal) -> WebhookEndpoint:
        """Turn a disabled endpoint back on (replay what it missed with `/replay`)."""
        row = await _endpoint(db, principal, endpoint_id)
        updated = await db_webhooks.update_endpoint(
            db,
            principal.tenant_id,
            _mode(principal),
            row.id,
            enabled=True,
            disabled_reason=None,
            failing_since=None,
        )
        assert updated is not None
        return to_endpoint(updated)

    @post("/{endpoint_id:str}/test", status_code=202, responses={202: docs.PING_SPEC})
    async def send_test_event(self, endpoint_id: str, db: AsyncSession, principal: Principal) -> Delivery:
        """Send a `test.ping` event to this endpoint only (test-mode keys only)."""
        row = await _endpoint(db, principal, endpoint_id)
        if principal.mode != "test":
            raise TestModeOnly("Use a test-mode key to send test events")
        if not row.enabled:
            # A disabled endpoint gets no deliveries, test events included: say so, and how to fix it.
            raise EndpointDisabled(
                "This endpoint is disabled; enable it with POST /v1/webhook_endpoints/{id}/enable first"
            )
        event_id = uuid7()
        body = public_body(event_id, "test.ping", datetime.now(UTC), {"endpoint_id": encode_id("we", row.id)})
        await db_webhooks.record_event(
            db,
            event_id=event_id,
            tenant_id=principal.tenant_id,
            mode="test",
            type_="test.ping",
            body=body,
            source_event_id=None,
            only_endpoint=row.id,
        )
        deliveries = await db_webhooks.list_deliveries(db, row.id, None, 1)
        return to_delivery(deliveries[0])

    @get(
        "/{endpoint_id:str}/deliveries",
        summary="Deliveries to this endpoint, newest first",
        responses={200: docs.DELIVERIES_SPEC},
    )
    async def deliveries(
        self,
        *,
        endpoint_id: str,
        db: AsyncSession,
        principal: Principal,
        status: str | None = None,
        cursor: str | None = None,
        limit: Limit = 20,
    ) -> DeliveryList:
        row = await _endpoint(db, principal, endpoint_id)
        rows = await db_webhooks.list_deliveries(db, row.id, pages.after(cursor), limit, status)
        return DeliveryList(
            data=[to_delivery(r) for r in rows], next_cursor=pages.next_cursor([r.id for r in rows], limit)
        )

    @get(
        "/{endpoint_id:str}/deliveries/{delivery_id:str}",
        summary="One delivery with every attempt",
        responses={200: docs.DELIVERY_SPEC},
    )
    async def delivery(
        self, endpoint_id: str, delivery_id: str, db: AsyncSession, principal: Principal
    ) -> Delivery:
        row = await _endpoint(db, principal, endpoint_id)
        found = await db_webhooks.get_delivery(db, row.id, pages.object_id("dlv", delivery_id, "delivery"))
        if found is None:
            raise NotFound("No such delivery")
        return to_delivery(found, await db_webhooks.attempts_of(db, found.id))

    @post(
        "/{endpoint_id:str}/deliveries/{delivery_id:str}/replay",
        status_code=202,
        responses={202: docs.REPLAYED_SPEC},
    )
    async def replay_one(
        self, endpoint_id: str, delivery_id: str, db: AsyncSession, principal: Principal
    ) -> ReplayResult:
        row = await _endpoint(db, principal, endpoint_id)
        count = await db_webhooks.replay(
            db, row.id, delivery_id=pages.object_id("dlv", delivery_id, "delivery")
        )
        if count == 0:
            raise NotFound("No such delivery")
        return ReplayResult(scheduled=count)

    @post(
        "/{endpoint_id:str}/replay",
        status_code=202,
        summary="Deliver again everything since a time",
        responses={202: docs.REPLAYED_SPEC},
    )
    async def replay_since(
        self, endpoint_id: str, data: ReplayRequest, db: AsyncSession, principal: Principal
    ) -> ReplayResult:
        row = await _endpoint(db, principal, endpoint_id)
        return ReplayResult(scheduled=await db_webhooks.replay(db, row.id, since=data.since))


class WebhookEndpointsController(_EndpointRoutes):
    path = "/v1/webhook_endpoints"
    guards = WEBHOOKS
    tags = ["webhooks"]


class SecretAnswer(msgspec.Struct):
    secret: str


class InternalWebhookEndpointsController(_EndpointRoutes):
    """The dashboard's twin of the partner routes; mode from the staff session's Nujoomy-Mode."""

    path = "/internal/v1/webhook_endpoints"
    guards = [require_role("manager")]
    tags = ["internal: webhooks"]

    @get("/{endpoint_id:str}/secret", summary="Reveal the signing secret (dashboard only)")
    async def reveal_secret(self, endpoint_id: str, db: AsyncSession, principal: Principal) -> SecretAnswer:
        return SecretAnswer(secret=(await _endpoint(db, principal, endpoint_id)).secret)
