"""The providers' published input schemas, and checking a request body against them.

Each endpoint's schema is a JSON file under tests/emulators/schemas/<provider>/ (endpoint
id with "/" as "__"), recorded from the provider's published documentation with its
sources and date (see tests/emulators/schemas/README.md). An endpoint without a file is
unknown to the emulator (404), as an endpoint the provider does not serve is.

`violations(schema, body)` answers in neutral terms — (field path, message, kind) — and
each emulator renders them in its provider's own error shape (fal: pydantic `detail[]`,
Replicate: a problem document with `invalid_fields`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).with_name("schemas")


@dataclass(frozen=True)
class EndpointSchema:
    provider: str
    endpoint: str
    input: dict[str, Any]
    image_inputs: tuple[str, ...]
    sources: tuple[str, ...]
    retrieved: str
    price: dict[str, Any]
    raw: dict[str, Any]

    @property
    def properties(self) -> dict[str, Any]:
        return self.input.get("properties", {})

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.input.get("required", ()))


@dataclass(frozen=True)
class Violation:
    loc: tuple[str, ...]
    message: str
    kind: str  # missing | extra_forbidden | enum | type | range | length | invalid


def file_name(endpoint: str) -> str:
    return endpoint.strip("/").replace("/", "__") + ".json"


@functools.cache
def load(provider: str, endpoint: str) -> EndpointSchema | None:
    path = SCHEMA_DIR / provider / file_name(endpoint)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    schema = data["input"]
    Draft202012Validator.check_schema(schema)
    return EndpointSchema(
        provider=provider,
        endpoint=data["endpoint"],
        input=schema,
        image_inputs=tuple(data.get("image_inputs", ())),
        sources=tuple(data.get("sources", ())),
        retrieved=str(data.get("retrieved", "")),
        price=dict(data.get("price") or {}),
        raw=data,
    )


def all_schemas(provider: str) -> list[EndpointSchema]:
    found = []
    for path in sorted((SCHEMA_DIR / provider).glob("*.json")):
        data = json.loads(path.read_text())
        schema = load(provider, data["endpoint"])
        if schema is not None:
            found.append(schema)
    return found


_KINDS = {
    "required": "missing",
    "additionalProperties": "extra_forbidden",
    "enum": "enum",
    "const": "enum",
    "type": "type",
    "minimum": "range",
    "maximum": "range",
    "exclusiveMinimum": "range",
    "exclusiveMaximum": "range",
    "minLength": "length",
    "maxLength": "length",
    "minItems": "length",
    "maxItems": "length",
}


def violations(schema: EndpointSchema, body: Any) -> list[Violation]:
    """Every way `body` breaks the published schema (empty when it conforms).

    Stricter than a lax pydantic model in one respect on purpose: a value of the wrong
    JSON type ("6" for an integer, 6 for a string enum) is refused, because that is the
    mistake that makes a real provider answer 422 on one model and not another."""
    if not isinstance(body, dict):
        return [Violation(("body",), "Input should be a valid dictionary", "type")]
    found: list[Violation] = []
    validator = Draft202012Validator(schema.input)
    for error in validator.iter_errors(body):
        kind = _KINDS.get(str(error.validator), "invalid")
        path = tuple(str(p) for p in error.absolute_path)
        if kind == "missing":
            name = _quoted_name(error.message)
            found.append(Violation((*path, name), "Field required", kind))
        elif kind == "extra_forbidden":
            extras = sorted(set(body) - set(schema.properties)) if not path else []
            for name in extras or [path[-1] if path else "body"]:
                found.append(Violation((name,), "Extra inputs are not permitted", kind))
        elif kind == "enum":
            allowed = error.validator_value
            options = (
                " or ".join(repr(v) for v in allowed)
                if isinstance(allowed, list)
                else repr(allowed)
            )
            found.append(Violation(path, f"Input should be {options}", kind))
        else:
            found.append(Violation(path, error.message, kind))
    return found


def _quoted_name(message: str) -> str:
    # jsonschema says "'prompt' is a required property".
    if message.startswith("'") and "'" in message[1:]:
        return message[1 : message.index("'", 1)]
    return message
