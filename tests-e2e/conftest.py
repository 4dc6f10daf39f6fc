"""Shared by the whole-system tests: where the repository is and which services it holds.

(Tests reach these through fixtures: with `--import-mode=importlib` a conftest is not importable.)
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ServiceCode:
    """One service as its code describes it (not as a deploy file claims it)."""

    name: str  # the directory name, which is the SERVICE constant: "wallet-pass"
    package: str  # the import package: "nujoomy_wallet_pass"
    distribution: str  # the uv workspace member: "nujoomy-wallet-pass"
    directory: Path

    @property
    def settings(self) -> ModuleType:
        """Its settings module (Settings, load(env), SERVICE), imported when a test asks for it, so
        one service's broken module fails that service's tests, not every test."""
        return importlib.import_module(f"{self.package}.settings")


def discover_services() -> dict[str, ServiceCode]:
    found = {}
    for manifest in sorted(ROOT.glob("services/*/pyproject.toml")):
        distribution = tomllib.loads(manifest.read_text())["project"]["name"]
        package = distribution.replace("-", "_")
        found[manifest.parent.name] = ServiceCode(
            manifest.parent.name, package, distribution, manifest.parent
        )
    return found


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def services() -> dict[str, ServiceCode]:
    return discover_services()
