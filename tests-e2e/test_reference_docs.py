"""The generated reference docs are current: docs/events.md is exactly what `nujoomy events catalog`
renders from the contracts registry, and the settings reference in docs/operations.md exactly what
`nujoomy settings catalog` renders from the Settings Structs, so a new event, a changed payload or a
new setting without regenerated docs fails here."""

from __future__ import annotations

from pathlib import Path

import msgspec
from nujoomy_cli.catalog import SETTINGS_BEGIN, SETTINGS_END, publisher, render_catalog, render_settings
from nujoomy_cli.main import build_parser, main
from nujoomy_contracts import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "docs" / "events.md"
OPERATIONS = ROOT / "docs" / "operations.md"


def test_committed_catalog_is_current() -> None:
    assert CATALOG.read_text() == render_catalog(), (
        "docs/events.md is stale: run `uv run nujoomy events catalog --output docs/events.md`"
    )


def test_catalog_names_every_event_with_its_publisher_and_schema() -> None:
    text = render_catalog()
    for (event_type, version), cls in EVENT_TYPES.items():
        assert f"## {event_type} v{version}\n" in text
        assert f"| {version} | `{cls.__name__}` | {publisher(event_type)} |" in text
        for field in msgspec.structs.fields(cls):
            assert f'"{field.encode_name}"' in text


def test_cli_writes_and_checks_the_catalog(tmp_path: Path, capsys) -> None:
    out = tmp_path / "events.md"
    assert main(["events", "catalog", "--output", str(out), "--check"]) == 1  # missing is stale
    assert main(["events", "catalog", "--output", str(out)]) == 0
    assert out.read_text() == render_catalog()
    assert main(["events", "catalog", "--output", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("ledger.balance.changed", "ledger.balance.moved"))
    assert main(["events", "catalog", "--output", str(out), "--check"]) == 1
    capsys.readouterr()
    assert main(["events", "catalog"]) == 0
    assert capsys.readouterr().out == render_catalog()


def test_every_context_has_a_publishing_service() -> None:
    services = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}
    assert {publisher(t) for t, _ in EVENT_TYPES} <= services


def _settings_section() -> str:
    text = OPERATIONS.read_text()
    return text[text.index(SETTINGS_BEGIN) : text.index(SETTINGS_END) + len(SETTINGS_END)]


def test_settings_reference_is_current() -> None:
    _, registry = build_parser()
    assert _settings_section() == render_settings(list(registry.services.values())), (
        "docs/operations.md settings are stale: run "
        "`uv run nujoomy settings catalog --output docs/operations.md`"
    )


def test_settings_reference_lists_every_field_of_every_service() -> None:
    _, registry = build_parser()
    section = _settings_section()
    assert set(registry.services) == {"tenant", "ledger", "wallet-pass", "partner-gateway", "notification"}
    for info in registry.services.values():
        assert f"### {info.name}\n" in section
    # The common fields under their shared name, with their defaults.
    assert '| `NUJOOMY_AMQP_URL` | `str` | `"amqp://guest:guest@127.0.0.1:5672/"` |' in section
    assert "| `NUJOOMY_LEDGER_PORT` | `int` | `8002` |" in section


def test_settings_check_detects_a_stale_reference(tmp_path: Path) -> None:
    copy = tmp_path / "operations.md"
    copy.write_text(OPERATIONS.read_text())
    assert main(["settings", "catalog", "--output", str(copy), "--check"]) == 0
    copy.write_text(
        OPERATIONS.read_text().replace(
            "`NUJOOMY_LEDGER_PORT` | `int` | `8002`", "`NUJOOMY_LEDGER_PORT` | `int` | `9`"
        )
    )
    assert main(["settings", "catalog", "--output", str(copy), "--check"]) == 1
    assert main(["settings", "catalog", "--output", str(copy)]) == 0
    assert copy.read_text() == OPERATIONS.read_text()
