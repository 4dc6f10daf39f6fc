"""Settings come from the environment: common, then per service, converted by msgspec."""

from __future__ import annotations

import msgspec
import pytest
from nujoomy_kit.settings import ServiceSettings, SettingsError, load_settings


class Example(ServiceSettings, kw_only=True):
    database_url: str = "postgresql://x/db"
    port: int = 9000
    schedule: tuple[float, ...] = (1.0, 5.0)
    hosts: list[str] = msgspec.field(default_factory=list)


def test_service_variables_override_common_ones_and_types_are_converted() -> None:
    env = {"NUJOOMY_PORT": "1", "NUJOOMY_EXAMPLE_PORT": "8123", "NUJOOMY_DEV_MODE": "true"}
    settings = load_settings(Example, "example", env)
    assert settings.port == 8123
    assert settings.dev_mode is True


def test_lists_come_as_comma_separated_or_json() -> None:
    env = {"NUJOOMY_EXAMPLE_SCHEDULE": "0, 0.5,2", "NUJOOMY_EXAMPLE_HOSTS": '["a", "b"]'}
    settings = load_settings(Example, "example", env)
    assert settings.schedule == (0.0, 0.5, 2.0)
    assert settings.hosts == ["a", "b"]


def test_a_bad_value_names_the_field() -> None:
    with pytest.raises(SettingsError, match="port"):
        load_settings(Example, "example", {"NUJOOMY_EXAMPLE_PORT": "eighty"})


def test_several_internal_public_keys_during_a_rotation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from nujoomy_kit.settings import read_pems
    from nujoomy_kit.tokens import public_pem

    old, new = (public_pem(Ed25519PrivateKey.generate().public_key()) for _ in range(2))
    (tmp_path / "old.pem").write_text(old)
    (tmp_path / "new.pem").write_text(new)
    assert read_pems(f"{tmp_path / 'old.pem'},{tmp_path / 'new.pem'}") == [old, new]
    assert read_pems(old + new) == [old, new]
    assert read_pems("") == []
