"""docs/security.md's table names tests that exist: each row's file, and its test function if named."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_row_of_the_security_table_names_an_existing_test() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    table = text.split("## Tests: what each proves", 1)[1]
    named = 0
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        directory = None
        for ref in re.findall(r"`([^`]+)`", first):
            path, _, function = ref.partition("::")
            file = ROOT / path if "/" in path else (directory / path if directory else ROOT / path)
            directory = file.parent
            assert file.is_file(), ref
            if function:
                assert f"def {function}(" in file.read_text(), ref
            named += 1
    assert named >= 10
