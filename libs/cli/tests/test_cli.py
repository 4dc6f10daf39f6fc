"""The operator CLI's own parts: every service registers its group and its `make up` pieces, the
fakes' ports are settings, a local run's env reaches later commands, tables line up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nujoomy_cli import main
from nujoomy_cli.settings import dev_ports
from nujoomy_cli.table import render

SERVICES = {"tenant", "ledger", "wallet-pass", "partner-gateway", "notification"}


def test_every_service_registers_itself_and_the_core_commands_are_there() -> None:
    parser, registry = main.build_parser()
    assert set(registry.services) == SERVICES
    assert {p.name for p in registry.processes} >= {
        "smtp-sink",
        "sms-fake",
        "apns-fake",
        "google-wallet-fake",
    }
    for command in (["status"], ["dlq", "list"], ["dev", "down"], ["events", "catalog"]):
        assert callable(parser.parse_args(command).run), command


def test_the_fakes_ports_move_with_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dev_ports().fake_google_port == 8093
    monkeypatch.setenv("NUJOOMY_DEV_FAKE_GOOGLE_PORT", "18093")
    monkeypatch.setenv("NUJOOMY_DEV_FAKE_APNS_PORT", "18443")
    _, registry = main.build_parser()
    google = next(p for p in registry.processes if p.name == "google-wallet-fake")
    apns = next(p for p in registry.processes if p.name == "apns-fake")
    assert "18093" in google.argv
    assert "18443" in apns.argv


def test_a_local_runs_env_reaches_later_commands_without_overriding_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "env").write_text("NUJOOMY_TEST_ONLY_A=from-file\nNUJOOMY_TEST_ONLY_B=from-file\n")
    monkeypatch.setenv("NUJOOMY_DEV_DIR", str(tmp_path))
    monkeypatch.setenv("NUJOOMY_TEST_ONLY_B", "from-shell")
    monkeypatch.delenv("NUJOOMY_TEST_ONLY_A", raising=False)
    main.load_dev_env()
    assert os.environ["NUJOOMY_TEST_ONLY_A"] == "from-file"
    assert os.environ["NUJOOMY_TEST_ONLY_B"] == "from-shell"
    monkeypatch.delenv("NUJOOMY_TEST_ONLY_A")


def test_tables_line_up_under_their_headers() -> None:
    text = render(["queue", "dead letters"], [["notification.events", 3], ["x", 12]])
    lines = text.splitlines()
    assert lines[0] == "queue                dead letters"
    assert lines[1] == "-------------------  ------------"
    assert lines[2].index("3") == lines[0].index("dead letters")
