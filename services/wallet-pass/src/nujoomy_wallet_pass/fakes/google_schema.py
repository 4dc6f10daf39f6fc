"""Google's own walletobjects v1 discovery document (shipped in google-api-python-client), turned
into JSON Schema with `additionalProperties: false`, and Google's error messages for what fails."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import googleapiclient
from jsonschema import Draft7Validator

DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache/documents/walletobjects.v1.json"
# The discovery document marks required fields only in prose ("Required. …"); these are the ones
# its descriptions name for the resources we use (checked on insert and on the merged result of a PATCH).
REQUIRED = {
    "LoyaltyClass": ("id", "issuerName", "programName", "programLogo", "reviewStatus"),
    "LoyaltyObject": ("id", "classId", "state"),
}
ID_PATTERN = re.compile(r"^\d+\.[A-Za-z0-9._-]+$")


def _convert(prop: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return {"$ref": f"#/definitions/{prop['$ref']}"}
    out: dict[str, Any] = {}
    kind = prop.get("type")
    if kind == "string" or prop.get("format") in ("int64", "uint64"):
        out["type"] = "string"  # int64 travels as a JSON string in Google's APIs
    elif kind == "integer":
        out["type"] = "integer"
    elif kind in ("number", "boolean"):
        out["type"] = kind
    elif kind == "array":
        out["type"] = "array"
        out["items"] = _convert(prop.get("items", {}))
    elif kind == "object":
        out["type"] = "object"
        if "additionalProperties" in prop:
            out["additionalProperties"] = _convert(prop["additionalProperties"])
    if "enum" in prop:
        out["enum"] = prop["enum"]
    return out


@lru_cache(maxsize=1)
def definitions() -> dict[str, Any]:
    doc = json.loads(DISCOVERY.read_text())
    defs: dict[str, Any] = {}
    for name, schema in doc["schemas"].items():
        defs[name] = {
            "type": "object",
            "properties": {k: _convert(v) for k, v in schema.get("properties", {}).items()},
            "additionalProperties": False,
        }
    return defs


@lru_cache(maxsize=4)
def validator(resource: str) -> Draft7Validator:
    return Draft7Validator({"$ref": f"#/definitions/{resource}", "definitions": definitions()})


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _where(resource: str, path: list[Any]) -> str:
    parts = [_snake(resource)] + [_snake(str(p)) if isinstance(p, str) else f"[{p}]" for p in path]
    return ".".join(parts).replace(".[", "[")


def problems(resource: str, body: Any) -> list[str]:
    """Google's messages for the first schema violations of `body` (empty when it is acceptable)."""
    messages = []
    for error in validator(resource).iter_errors(body):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            for name in sorted(set(error.instance) - known):
                messages.append(
                    f"Invalid JSON payload received. Unknown name \"{name}\" at '{_where(resource, path)}': "
                    "Cannot find field."
                )
        elif error.validator == "enum":
            messages.append(
                f"Invalid value at '{_where(resource, path)}' "
                f"(type.googleapis.com/google.walletobjects.v1.{resource}), {json.dumps(error.instance)}"
            )
        else:
            messages.append(
                f"Invalid value at '{_where(resource, path)}' ({error.validator}), "
                f"{json.dumps(error.instance)}"
            )
    return messages


def missing(resource: str, body: dict[str, Any]) -> list[str]:
    found = [f for f in REQUIRED.get(resource, ()) if body.get(f) in (None, "", {})]
    if resource == "LoyaltyObject":
        points = body.get("loyaltyPoints")
        if isinstance(points, dict):
            balance = points.get("balance")
            if not isinstance(balance, dict) or len([k for k in balance if balance[k] is not None]) != 1:
                found.append("loyaltyPoints.balance")
    return found
