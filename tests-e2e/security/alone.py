"""One service's real app, alone, over its own database: what the internal-API probes aim at."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from nujoomy_testing.plugin import MakeDb
from nujoomy_testing.tokens import TestTokens

from .bff_stack import create_business
from .conftest import program, project_program

ROOT = Path(__file__).resolve().parents[2]


async def build_alone(
    service: str, common: dict[str, Any], make_db: MakeDb, tokens: TestTokens, tmp_path: Path
) -> tuple[Any, uuid.UUID, str]:
    """(app, tenant id, its database) for one service, with the tenant it knows about, verifying the
    internal tokens addressed to it (`tokens.internal(..., to=service)`)."""
    package = "nujoomy_" + service.replace("-", "_")
    settings_module = __import__(f"{package}.settings", fromlist=["load"])
    app_module = __import__(f"{package}.app", fromlist=["build_app"])
    database = await make_db(service, ROOT / "services" / service / "migrations")
    env: dict[str, str] = {}
    extra: dict[str, Any] = {}
    tenant = uuid.uuid4()
    if service == "tenant":
        tenant = await create_business(database, f"f{uuid.uuid4().hex[:10]}")
        extra = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
    elif service == "ledger":
        for mode in ("test", "live"):
            await project_program(database, program(tenant), mode)
    elif service == "wallet-pass":
        from nujoomy_wallet_pass import devcerts

        env = devcerts.wallet_env(
            devcerts.generate(tmp_path / "wallet"),
            "https://127.0.0.1:9",
            "http://127.0.0.1:9/wo",
            "http://127.0.0.1:9/t",
        )
        extra = {"public_url": "https://loyalty.example"}
    settings = settings_module.load(
        env, **common, **extra, **tokens.service_settings(service), database_url=database
    )
    return app_module.build_app(settings, verifier=tokens.verifier(service)), tenant, database
