"""The emulator's own check of request bodies and answers against the spec subset, in process.

Prism (the validating proxy in front of the emulator) is the source of truth. This is the small part that
also runs without it and that Prism cannot do: JSON Schema lets an object carry properties its schema
does not declare, so Prism accepts a POST body with an unknown field; Cloudflare's API reference
declares every field it takes, so a field the operation's schema does not declare anywhere (through
allOf/anyOf/oneOf) is reported here. Besides that: required properties (readOnly ones not, in
requests), types (with `nullable`), enums, string lengths and number bounds, array items.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.contract.spec import Spec

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def request_schema(spec: Spec, template: str, method: str) -> dict | None:
    body = spec.operation(template, method).get("requestBody")
    if body is None:
        return None
    return spec.resolve(spec.resolve(body)["content"]["application/json"]["schema"])


UNKNOWN = "has a field the spec does not declare"


def check(spec: Spec, value: Any, schema: Any, where: str = "body", *, request: bool = True) -> list[str]:
    """Every violation of `schema` by `value`, as 'where.path: message'; in a request (the default)
    readOnly properties are not required and a field the schema does not declare is reported."""
    return list(_check(spec, value, spec.resolve(schema) or {}, where, request, request))


def _type_ok(value: Any, kind: str | None) -> bool:
    if kind is None:
        return True
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return kind == "number" or float(value).is_integer()
    expected = _TYPES.get(kind)
    return expected is None or (isinstance(value, expected) and not (kind != "boolean" and isinstance(value, bool)))


def _check(spec: Spec, value: Any, schema: dict, where: str, request: bool, strict: bool) -> Iterator[str]:
    if value is None:
        if not schema.get("nullable") and schema.get("type") is not None and None not in schema.get("enum", ()):
            yield f"{where}: must not be null"
        return
    for part in schema.get("allOf", []):
        yield from _check(spec, value, spec.resolve(part), where, request, strict)
    for keyword in ("anyOf", "oneOf"):
        branches = [spec.resolve(b) for b in schema.get(keyword, [])]
        outcomes = [list(_check(spec, value, b, where, request, False)) for b in branches]
        if outcomes and all(outcomes):
            closest = min(outcomes, key=len)
            yield f"{where}: matches none of the {keyword} branches (the closest: {'; '.join(closest[:3])})"
    if not _type_ok(value, schema.get("type")):
        yield f"{where}: must be {schema.get('type')}"
        return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{where}: must be one of {schema['enum']}"
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield f"{where}: longer than {schema['maxLength']}"
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield f"{where}: shorter than {schema['minLength']}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "maximum" in schema and value > schema["maximum"]:
            yield f"{where}: above {schema['maximum']}"
        if "minimum" in schema and value < schema["minimum"]:
            yield f"{where}: below {schema['minimum']}"
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _check(spec, item, spec.resolve(schema["items"]), f"{where}[{index}]", request, strict)
    if isinstance(value, dict):
        yield from _check_object(spec, value, schema, where, request, strict)


def _check_object(spec: Spec, value: dict, schema: dict, where: str, request: bool, strict: bool) -> Iterator[str]:
    own = schema.get("properties", {})
    for name in schema.get("required", []):
        readonly = spec.resolve(own.get(name, {})).get("readOnly") or own.get(name, {}).get("readOnly")
        if name not in value and not (request and readonly):
            yield f"{where}: must have required property '{name}'"
    for key, item in value.items():
        if key in own:
            yield from _check(spec, item, spec.resolve(own[key]), f"{where}.{key}", request, strict)
        elif isinstance(schema.get("additionalProperties"), dict):
            yield from _check(spec, item, spec.resolve(schema["additionalProperties"]), f"{where}.{key}", request,
                              strict)
    if strict and not spec.shape(schema).open and (own or _composed(schema)):
        declared = spec.shape(schema).properties
        for key in value:
            if key not in declared:
                yield f"{where}: {UNKNOWN}: '{key}'"


def _composed(schema: dict) -> bool:
    return any(schema.get(k) for k in ("allOf", "anyOf", "oneOf"))
