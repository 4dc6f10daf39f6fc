"""Fixtures of the reliability suite (helpers are in system.py)."""

from __future__ import annotations

import pytest
from nujoomy_testing.tokens import TestTokens


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens()
