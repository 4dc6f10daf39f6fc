"""One fuzz loop for every OpenAPI document under test (partner API, BFF, internal APIs).

Each operation gets positive and negative examples (bounded: NUJOOMY_FUZZ_EXAMPLES, default 15 per
operation and mode). Failures: a 5xx; a 4xx that is not application/problem+json with a `code`;
with `conformance`, a 2xx body that breaks the documented response schema (with `skip_bare_strings`,
only where one is documented: see documents_its_body). Every failure is collected, not just the
first, so one run lists all of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import hypothesis
import hypothesis.errors
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.generation import GenerationMode

EXAMPLES = int(os.environ.get("NUJOOMY_FUZZ_EXAMPLES", "15"))
Strategy = Callable[[Any, GenerationMode], Any]


def default_strategy(operation: Any, mode: GenerationMode) -> Any:
    return operation.as_strategy(generation_mode=mode)


def seeded(values: Mapping[str, str]) -> Strategy:
    """Generated cases where, in about half of them, path parameters and top-level body fields
    named like a key of `values` carry that real id instead, so handlers past validation run too."""

    def strategy(operation: Any, mode: GenerationMode) -> Any:
        def seed(pair: tuple[Any, bool]) -> Any:
            case, real = pair
            if real and case.path_parameters:
                for key in case.path_parameters:
                    case.path_parameters[key] = values.get(key, case.path_parameters[key])
            if real and isinstance(case.body, dict):
                for key, value in values.items():
                    if key in case.body:
                        case.body[key] = value
            return case

        return st.tuples(operation.as_strategy(generation_mode=mode), st.booleans()).map(seed)

    return strategy


def documents_its_body(operation: Any) -> bool:
    """False when every 2xx answer is documented as a bare JSON string: a handler that streams a
    sibling's bytes (Response[bytes]) and names no Struct, so there is no schema to hold it to."""
    responses = operation.definition.raw.get("responses", {})
    schemas = [
        media.get("schema")
        for status, response in responses.items()
        if str(status).startswith("2")
        for media in (response.get("content") or {}).values()
    ]
    return not schemas or any(schema != {"type": "string"} for schema in schemas)


def fuzz(
    schema: Any,
    base_url: str,
    headers: Mapping[str, str],
    *,
    strategy: Strategy = default_strategy,
    conformance: bool = True,
    refused: tuple[int, ...] = (),
    examples: int = EXAMPLES,
    skip_bare_strings: bool = True,
) -> dict[str, int]:
    """Runs the fuzz; returns how many calls each "METHOD path" got. `refused`: statuses that mean
    the credentials stopped working mid-run (a failure: the fuzz would test nothing past them).
    `skip_bare_strings=False` holds every 2xx to its schema, pass-through handlers included (the
    partner API declares what they answer; a bare string there fails like any other drift)."""
    seen: dict[str, int] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.given(case=strategy(operation, mode))
            @hypothesis.settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                response = case.call(base_url=base_url, headers=dict(headers), timeout=30)
                key = f"{case.method.upper()} {case.path}"
                seen[key] = seen.get(key, 0) + 1
                checks = [not_a_server_error]
                documented = not skip_bare_strings or documents_its_body(case.operation)
                if conformance and response.status_code < 300 and documented:
                    checks.append(response_schema_conformance)
                try:
                    case.validate_response(response, checks=checks)
                except Exception as exc:
                    failures.append(f"{key}: {type(exc).__name__}: {str(exc)[:400]}")
                    return
                if response.status_code in refused:
                    failures.append(f"{key}: the credentials were refused: {response.text[:200]}")
                if 400 <= response.status_code < 500:
                    content_type = (response.headers.get("content-type") or [""])[0]
                    body = response.json() if "json" in content_type else {}
                    if not content_type.startswith("application/problem+json") or "code" not in body:
                        failures.append(f"{key}: {response.status_code} {content_type} {response.text[:200]}")

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # nothing violates this operation's schema (no parameters, no body): nothing negative
                assert mode is GenerationMode.NEGATIVE, label
            except Exception as exc:  # hypothesis re-raises a failing call: record it, fuzz on
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:600]}")
    assert not failures, "\n".join(failures[:20])
    return seen
