"""The libraries form a one-way stack — kit ← contracts ← messaging ← testing/cli — and know no
service: a library importing upward (even lazily, inside a function) makes a cycle that only shows
up at run time, in whichever process happens to take that path first."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIBS = Path(__file__).resolve().parents[2]
ALLOWED = {
    "nujoomy_kit": set(),
    "nujoomy_contracts": set(),  # dependency-free: outside consumers decode events with it alone
    "nujoomy_messaging": {"nujoomy_kit", "nujoomy_contracts"},
    "nujoomy_testing": {"nujoomy_kit", "nujoomy_contracts", "nujoomy_messaging"},
    "nujoomy_cli": {"nujoomy_kit", "nujoomy_contracts", "nujoomy_messaging"},
}


def imported_packages(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return {name for name in found if name.startswith("nujoomy_")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_library_imports_only_the_libraries_below_it(package: str) -> None:
    sources = list(LIBS.glob(f"*/src/{package}/**/*.py"))
    assert sources, f"no sources found for {package}"
    wrong = {
        f"{path.relative_to(LIBS)} imports {name}"
        for path in sources
        for name in imported_packages(path) - ALLOWED[package] - {package}
    }
    assert not wrong, sorted(wrong)
