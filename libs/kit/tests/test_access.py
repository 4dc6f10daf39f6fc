"""Role and scope checks (nujoomy_kit.auth) and the internal token's audience and caller binding."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from nujoomy_kit.auth import check_access
from nujoomy_kit.problems import Forbidden
from nujoomy_kit.settings import read_keyset
from nujoomy_kit.tokens import InternalTokenIssuer, Principal, TokenError
from nujoomy_testing.tokens import TestTokens

TENANT = uuid.uuid4()


def internal(*scopes: str, role: str | None = None) -> Principal:
    return Principal(kind="internal", tenant_id=TENANT, mode="live", scopes=scopes, role=role)  # type: ignore[arg-type]


def staff(role: str) -> Principal:
    return Principal(kind="staff", tenant_id=TENANT, mode="live", role=role)  # type: ignore[arg-type]


def test_a_roleless_internal_token_needs_the_routes_scope() -> None:
    with pytest.raises(Forbidden):
        check_access(internal(), "staff", "members:read")  # no scope at all
    with pytest.raises(Forbidden):
        check_access(internal("members:write"), "staff", "members:read")
    with pytest.raises(Forbidden):
        check_access(internal("read", "write"), "manager", None)  # a staff-only route
    check_access(internal("members:read"), "manager", "members:read")
    check_access(internal("read"), "manager", "members:read")  # a partner key's broad scope


def test_a_staff_token_needs_the_role_whatever_the_scope() -> None:
    with pytest.raises(Forbidden):
        check_access(staff("staff"), "manager", "members:read")
    check_access(staff("manager"), "manager", None)
    check_access(staff("owner"), "manager", None)
    with pytest.raises(Forbidden):
        check_access(internal("read", role="staff"), "manager", "members:read")  # acting for a barista


def test_each_caller_signs_for_itself_and_each_callee_reads_only_its_own() -> None:
    tokens = TestTokens()
    ledger = tokens.verifier("ledger")
    gateway = InternalTokenIssuer(tokens.private_pems["partner-gateway"], subject="partner-gateway")
    assert asyncio.run(ledger.verify(gateway.issue(TENANT, "live", to="ledger"))).subject == "partner-gateway"
    with pytest.raises(TokenError, match="not for this service"):
        asyncio.run(ledger.verify(gateway.issue(TENANT, "live", to="wallet-pass")))
    impostor = InternalTokenIssuer(tokens.private_pems["notification"], subject="partner-gateway")
    with pytest.raises(TokenError, match="another caller"):
        asyncio.run(ledger.verify(impostor.issue(TENANT, "live", to="ledger")))


def test_the_keyset_is_json_of_pem_text_or_paths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tokens = TestTokens()
    gateway_pem = tokens.public_pems["partner-gateway"]
    (tmp_path / "gw.pem").write_text(gateway_pem)
    (tmp_path / "keyset.json").write_text(json.dumps({"partner-gateway": str(tmp_path / "gw.pem")}))
    assert read_keyset(str(tmp_path / "keyset.json")) == {"partner-gateway": [gateway_pem]}
    assert read_keyset(tokens.keyset)["notification"] == [tokens.public_pems["notification"]]
    assert read_keyset("") == {}
