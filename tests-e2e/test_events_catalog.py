"""docs/events.md is exactly what `nujoomy events catalog` renders from the contracts registry today,
so a new event or a changed payload without a regenerated catalog fails here."""

from __future__ import annotations

from pathlib import Path

import msgspec
from nujoomy_cli.catalog import publisher, render_catalog
from nujoomy_cli.main import main
from nujoomy_contracts import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "docs" / "events.md"


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
