"""The partner-gateway service's consumer purposes: one durable queue each."""

from __future__ import annotations

from nujoomy_messaging import ConsumerSpec

from nujoomy_partner_gateway.settings import Settings


def consumer_specs(settings: Settings) -> list[ConsumerSpec]:
    return []


# The names the CLI knows for dead-letter inspection (`nujoomy dlq list`).
CONSUMER_NAMES: tuple[str, ...] = ()
