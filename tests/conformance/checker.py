"""Check what the program declares against the providers' schemas and the APIs' own rules.

`check_rendering` takes a rendering of the real `__main__.py` (infra/offline.py) and reports, for
every custom resource and every provider lookup: properties the schema does not have, required
inputs that are missing, values of the wrong JSON type (nested objects included), values outside an
enum or outside the "Available values" of a Cloudflare description (or the "Possible values are" of a
pulumi-gcp one), and violations of the API rules in `api_rules.py` that no schema encodes. Each
finding names the resource, the property path and the rule, so a failing test reads like the
provider's error would.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from infra.offline import DeclaredResource, Rendering
from infra.offline_cloud import Invoke
from tests.conformance import api_rules
from tests.conformance.sdk_schema import SchemaError, Shape, function_schema, resource_schema

# Resource types no provider schema covers, with the schema the engine itself applies.
ENGINE_RESOURCES = {
    # The removal guard's self-reference; the engine's built-in StackReference takes a stack name.
    "pulumi:pulumi:StackReference": {"name": ("string", True)},
}


@dataclass(frozen=True)
class Finding:
    subject: str  # "<type> <name>" or "lookup <token>"
    path: str  # property path, e.g. "ingress[0].description"; "" for the whole resource
    problem: str

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.subject}{where}: {self.problem}"


def check_value(shape: Shape, value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) for each way `value` does not fit `shape`."""
    if value is None:
        return
    kind = shape.kind
    if kind == "any":
        return
    if kind == "asset":
        # The engine's asset and archive objects carry a signature key; content strings are fine too.
        if not isinstance(value, (str, dict)):
            yield path, f"expected an asset or archive, got {_json_type(value)}"
        return
    if kind == "union":
        if any(not list(check_value(option, value, path)) for option in shape.options):
            return
        kinds = " or ".join(option.name or option.kind for option in shape.options)
        yield path, f"expected {kinds}, got {_json_type(value)} {_show(value)}"
        return
    if kind == "string":
        if not isinstance(value, str):
            yield path, f"expected a string, got {_json_type(value)} {_show(value)}"
        elif shape.enum is not None and value not in shape.enum:
            yield path, f"{value!r} is not one of the allowed values {', '.join(map(repr, shape.enum))}"
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            yield path, f"expected a boolean, got {_json_type(value)} {_show(value)}"
        return
    if kind in ("integer", "number"):
        # Pulumi's wire format (protobuf Struct) carries every number as a double.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            yield path, f"expected {'an integer' if kind == 'integer' else 'a number'}, got {_json_type(value)}"
        elif kind == "integer" and not float(value).is_integer():
            yield path, f"expected an integer, got {value!r}"
        elif shape.enum is not None and value not in shape.enum:
            yield path, f"{value!r} is not one of {shape.enum}"
        return
    if kind == "array":
        if not isinstance(value, list):
            yield path, f"expected an array, got {_json_type(value)} {_show(value)}"
            return
        for index, item in enumerate(value):
            yield from check_value(shape.items, item, f"{path}[{index}]")
        return
    if kind == "map":
        if not isinstance(value, dict):
            yield path, f"expected a map, got {_json_type(value)} {_show(value)}"
            return
        for key, item in value.items():
            yield from check_value(shape.items, item, _join(path, key))
        return
    if kind == "object":
        if not isinstance(value, dict):
            yield path, f"expected an object ({shape.name}), got {_json_type(value)} {_show(value)}"
            return
        yield from check_object(shape, value, path)
        return
    raise AssertionError(f"unknown shape kind {kind}")


def check_object(shape: Shape, value: dict, path: str) -> Iterator[tuple[str, str]]:
    for key in value:
        if key not in shape.properties:
            yield _join(path, key), f"unknown property (the schema of {shape.name} has no {key!r})"
    for name, prop in shape.properties.items():
        if prop.required and value.get(name) is None:
            yield _join(path, name), "required input is missing"
        elif name in value:
            yield from check_value(prop.shape, value[name], _join(path, name))


def check_resource(resource: DeclaredResource, context: api_rules.Context) -> list[Finding]:
    """Schema and API-rule findings for one custom resource (components are the program's own)."""
    subject = f"{resource.type} {resource.name}"
    if resource.type in ENGINE_RESOURCES:
        findings = _engine_findings(subject, ENGINE_RESOURCES[resource.type], resource.inputs)
    elif resource.type in api_rules.OWN_PROVIDER_RESOURCES:
        findings = [Finding(subject, p, m) for p, m in api_rules.OWN_PROVIDER_RESOURCES[resource.type](resource)]
    else:
        try:
            shape = resource_schema(resource.type)
        except SchemaError as err:
            return [Finding(subject, "", str(err))]
        findings = [Finding(subject, p, m) for p, m in check_object(shape, resource.inputs, "")]
    for rule in api_rules.RESOURCE_RULES:
        if not fnmatch.fnmatchcase(resource.type, rule.resource_type):
            continue
        for path, value in resolve(rule.path, resource.inputs, resource.name):
            try:
                problem = rule.check(value, context)
            except (TypeError, AttributeError):
                continue  # a value of the wrong type, which the schema check has reported already
            if problem:
                findings.append(Finding(subject, path, f"{problem} [{rule.source}]"))
    return findings


def check_invoke(invoke: Invoke, context: api_rules.Context) -> list[Finding]:
    subject = f"lookup {invoke.token}"
    try:
        function = function_schema(invoke.token)
    except SchemaError as err:
        return [Finding(subject, "", str(err))]
    shape = Shape("object", name=invoke.token, properties=function.arguments)
    return [Finding(subject, p, m) for p, m in check_object(shape, invoke.args, "")]


def check_rendering(rendering: Rendering) -> list[Finding]:
    """Everything wrong with one rendering: per resource, per lookup, and across resources."""
    context = api_rules.Context.of(rendering)
    findings: list[Finding] = []
    for resource in rendering.resources:
        if resource.custom:
            findings.extend(check_resource(resource, context))
    for invoke in rendering.invokes:
        findings.extend(check_invoke(invoke, context))
    for rule in api_rules.STACK_RULES:
        for subject, problem in rule.check(rendering, context):
            findings.append(Finding(subject, "", f"{problem} [{rule.source}]"))
    return findings


def resolve(path: str, inputs: dict, name: str) -> Iterable[tuple[str, Any]]:
    """The values a rule path names: `$name` (the logical name), `$` (all inputs), `a.b[*].c`."""
    if path == "$name":
        return [("(resource name)", name)]
    if path == "$":
        return [("", inputs)]
    found: list[tuple[str, Any]] = [("", inputs)]
    for part in re.findall(r"[^.\[\]]+|\[\*\]", path):
        following: list[tuple[str, Any]] = []
        for where, value in found:
            if part == "[*]":
                if isinstance(value, list):
                    following.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
            elif isinstance(value, dict) and "*" in part:
                following.extend((_join(where, key), item) for key, item in value.items()
                                 if fnmatch.fnmatchcase(key, part) and item is not None)
            elif isinstance(value, dict) and value.get(part) is not None:
                following.append((_join(where, part), value[part]))
        found = following
    return found


def _engine_findings(subject: str, schema: dict[str, tuple[str, bool]], inputs: dict) -> list[Finding]:
    findings = [Finding(subject, key, "unknown property") for key in inputs if key not in schema]
    for key, (kind, required) in schema.items():
        if required and inputs.get(key) is None:
            findings.append(Finding(subject, key, "required input is missing"))
        elif key in inputs:
            findings.extend(Finding(subject, p, m) for p, m in check_value(Shape(kind), inputs[key], key))
    return findings


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
