"""Readiness answers each check's name with "ok" or "failed" (the reason goes to the log only), and
the broker check keeps one AMQP connection across probes instead of opening one per probe."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.testing import AsyncTestClient
from nujoomy_kit.health import broker_check
from nujoomy_kit.web import service_app
from nujoomy_testing.proxy import TcpProxy


async def test_probes_share_one_broker_connection_and_name_failures_without_detail(amqp_url: str) -> None:
    target = urlsplit(amqp_url)
    proxy = await TcpProxy(target.hostname or "127.0.0.1", target.port or 5672).start()
    broker_url = proxy.url_for(amqp_url)
    try:
        app = service_app(
            service="probe", route_handlers=[], ready_checks={"broker": broker_check(broker_url)}
        )
        async with AsyncTestClient(app) as client:
            for _ in range(5):
                ready = await client.get("/health/ready")
                assert ready.json() == {"status": "ok", "checks": {"broker": "ok"}}
            assert proxy.accepted == 1  # five probes, one connection
            proxy.drop()
            down = await client.get("/health/ready")
            assert down.status_code == 503
            assert down.json() == {"status": "unavailable", "checks": {"broker": "failed"}}
            assert "127.0.0.1" not in down.text
            assert str(proxy.port) not in down.text
            proxy.restore()
            back = await client.get("/health/ready")
            assert back.status_code == 200, back.text
            assert proxy.accepted >= 2  # the failed connection was replaced
    finally:
        await proxy.close()
