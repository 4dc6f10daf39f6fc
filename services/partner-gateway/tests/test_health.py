"""Liveness needs nothing; readiness names what is down and recovers when it returns."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from nujoomy_partner_gateway.app import build_app
from nujoomy_partner_gateway.settings import Settings
from nujoomy_testing.health import assert_live_ready_and_metrics, assert_ready_follows_the_database


async def test_live_ready_and_metrics(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    await assert_live_ready_and_metrics(client)


async def test_ready_is_503_while_the_database_is_unreachable(settings: Settings) -> None:
    await assert_ready_follows_the_database(build_app, settings)
