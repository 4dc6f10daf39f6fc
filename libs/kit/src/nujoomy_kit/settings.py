"""Typed settings from the environment.

Each service declares one msgspec Struct; `load_settings` fills it from variables named
`NUJOOMY_<FIELD>` (shared by every service, e.g. `NUJOOMY_AMQP_URL`) overridden by
`NUJOOMY_<SERVICE>_<FIELD>`. msgspec does the type conversion (`strict=False` turns "8" into 8 and
"true" into True), so there is no hand-written parser to drift from the Struct.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)

COMMON_PREFIX = "NUJOOMY_"


class SettingsError(RuntimeError):
    """Raised when the environment does not describe a valid settings object."""


def _collect(prefix: str, env: Mapping[str, str], fields: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in env.items():
        if key.startswith(prefix):
            name = key[len(prefix) :].lower()
            if name in fields:
                found[name] = value
    return found


def _sequence_fields(cls: type[msgspec.Struct]) -> set[str]:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    kinds = (
        msgspec.inspect.ListType,
        msgspec.inspect.TupleType,
        msgspec.inspect.VarTupleType,
        msgspec.inspect.SetType,
        msgspec.inspect.FrozenSetType,
    )
    return {f.name for f in info.fields if isinstance(f.type, kinds)}


def _split(value: object) -> object:
    """An environment variable holds a list as `a,b,c` (or a JSON array)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return msgspec.json.decode(text)
    return [part.strip() for part in text.split(",") if part.strip()]


def load_settings(cls: type[S], service: str, env: Mapping[str, str] | None = None, **overrides: object) -> S:
    """Build `cls` from the environment: common `NUJOOMY_*`, then `NUJOOMY_<SERVICE>_*`, then overrides."""
    source = os.environ if env is None else env
    fields = {f.name for f in msgspec.structs.fields(cls)}
    values: dict[str, object] = {}
    values.update(_collect(COMMON_PREFIX, source, fields))
    service_prefix = f"{COMMON_PREFIX}{service.upper().replace('-', '_')}_"
    values.update(_collect(service_prefix, source, fields))
    for name in _sequence_fields(cls) & set(values):
        values[name] = _split(values[name])
    values.update(overrides)
    try:
        return msgspec.convert(values, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid settings for {service}: {exc}") from exc


class ServiceSettings(msgspec.Struct, kw_only=True):
    """Fields every service has. A service's Settings subclasses this and adds its own."""

    database_url: str
    port: int
    host: str = "127.0.0.1"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = ""
    events_exchange: str = "nujoomy.events"
    queue_prefix: str = ""
    queue_type: str = "classic"
    log_level: str = "INFO"
    log_json: bool = True
    dev_mode: bool = False
    db_pool_size: int = 10
    # The worker process's probe listener (/health/live, /health/ready) on host:this port; 0 = none
    # (local runs start several workers on one host; a container gets its own port space).
    worker_health_port: int = 0
    # This service's own key for the internal tokens it sends (tokens.py): PEM text or a path to a PEM
    # file; set per service (NUJOOMY_<SERVICE>_INTERNAL_PRIVATE_KEY), no two services share one.
    internal_private_key: str = ""
    # The callers whose internal tokens this service accepts: a JSON object {"<calling service>":
    # "<public PEM text (several blocks during a rotation), or comma-separated paths>"}, or its path.
    internal_keyset: str = ""
    # Where the siblings answer (internal HTTP).
    tenant_url: str = "http://127.0.0.1:8001"
    ledger_url: str = "http://127.0.0.1:8002"
    wallet_pass_url: str = "http://127.0.0.1:8003"
    notification_url: str = "http://127.0.0.1:8004"
    gateway_url: str = "http://127.0.0.1:8000"
    public_url: str = "http://127.0.0.1:8000"

    def secrets(self) -> dict[str, str]:
        """The settings that must hold a real secret outside dev mode (name → value); a service adds
        its own. URLs are listed for the password they may carry."""
        return {
            "internal_private_key": self.internal_private_key,
            "internal_keyset": self.internal_keyset,
            "database_url": self.database_url,
            "amqp_url": self.amqp_url,
            "redis_url": self.redis_url,
        }


# Text shipped in examples and manifests, never a real secret.
PLACEHOLDERS = ("change-me", "changeme", "placeholder")
# Settings whose default is usable (a local URL) and so are checked only for placeholder text.
_MAY_BE_DEFAULT = frozenset({"database_url", "amqp_url", "redis_url"})


def placeholder_secrets(settings: ServiceSettings, service: str) -> list[str]:
    """The environment variable of each secret setting that is empty or a placeholder, unless dev
    mode is on: a service refuses to start with any (entry.service_main)."""
    if settings.dev_mode:
        return []
    bad: list[str] = []
    for name, value in settings.secrets().items():
        text = _resolved(value)
        empty = not text.strip() and name not in _MAY_BE_DEFAULT
        if empty or any(p in text.lower() for p in PLACEHOLDERS):
            bad.append(f"{COMMON_PREFIX}{service.upper().replace('-', '_')}_{name.upper()}")
    return bad


def _resolved(value: str) -> str:
    """A secret given as a path is judged by the file's text (a PEM file holding PLACEHOLDER)."""
    candidate = value.strip()
    if (
        candidate
        and "\n" not in candidate
        and not candidate.startswith(("-----", "{"))
        and os.path.isfile(candidate)
    ):
        with open(candidate, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    return value


def read_keyset(value: str) -> dict[str, list[str]]:
    """The trusted callers' public keys: `internal_keyset` as a JSON object (or a path to one), each
    caller's entry PEM text or comma-separated paths (several keys during a rotation)."""
    text = value.strip()
    if not text:
        return {}
    if not text.startswith("{"):
        with open(text, encoding="utf-8") as fh:
            text = fh.read()
    try:
        entries = msgspec.json.decode(text, type=dict[str, str])
    except msgspec.DecodeError as exc:
        raise SettingsError(f"internal_keyset is not a JSON object of caller to key: {exc}") from exc
    return {caller: read_pems(keys) for caller, keys in entries.items()}


def read_pems(value: str) -> list[str]:
    """Several keys (a rotation): comma-separated paths, or PEM text holding several blocks."""
    if not value:
        return []
    parts = [value] if value.lstrip().startswith("-----BEGIN") else [v for v in value.split(",") if v.strip()]
    blocks: list[str] = []
    for part in parts:
        text = read_pem(part.strip())
        for chunk in text.split("-----BEGIN ")[1:]:
            blocks.append("-----BEGIN " + chunk.strip() + "\n")
    return blocks


def read_pem(value: str) -> str:
    """Settings carry keys as PEM text or as a path to a PEM file."""
    if not value or value.lstrip().startswith("-----BEGIN"):
        return value
    with open(value, encoding="ascii") as fh:
        return fh.read()
