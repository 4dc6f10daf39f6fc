"""`python -m nujoomy_partner_gateway api|worker|migrate`: how every process of this service starts."""

from __future__ import annotations

from pathlib import Path

from nujoomy_messaging.entry import service_main

from nujoomy_partner_gateway.settings import SERVICE, load

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

if __name__ == "__main__":
    service_main(
        service=SERVICE,
        load=load,
        migrations=MIGRATIONS,
        app_factory="nujoomy_partner_gateway.app:build_app",
        worker_factory="nujoomy_partner_gateway.worker:build_worker",
    )
