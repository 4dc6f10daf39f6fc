"""The partner-gateway service's HTTP routes."""

from __future__ import annotations

from typing import Any


def route_handlers() -> list[Any]:
    from nujoomy_partner_gateway.api.docs import docs
    from nujoomy_partner_gateway.api.events import get_event, list_events
    from nujoomy_partner_gateway.api.keys import ApiKeysController
    from nujoomy_partner_gateway.api.partner import HANDLERS
    from nujoomy_partner_gateway.api.webhooks import (
        InternalWebhookEndpointsController,
        WebhookEndpointsController,
    )
    from nujoomy_partner_gateway.bff import web_route_handlers

    return [
        ApiKeysController,
        WebhookEndpointsController,
        InternalWebhookEndpointsController,
        list_events,
        get_event,
        *HANDLERS,
        docs,
        *web_route_handlers(),
    ]
