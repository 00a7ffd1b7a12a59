"""Cloudflare's OpenAPI specification (the subset the project reads), read the way the contract tests need it.

`cloudflare-openapi-subset.json` beside this file is cut verbatim from the spec Cloudflare's SDKs are
generated from and tested against (its `x-source` says where and at which commit). From it this module
answers: which operation a request path is, an operation's parameters, the schema of its 200 answer,
which fields of an answer are optional (so a proxy may drop them) or nullable (so it may null them),
and whether a field the code reads is one the spec defines at all. Nothing here comes from our code.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("cloudflare-openapi-subset.json")


@dataclass(frozen=True)
class Shape:
    """What the spec says about an object at one place in an answer, allOf merged."""

    properties: Mapping[str, Any]
    required: frozenset[str]
    open: bool  # additionalProperties: any key may appear (custom_metadata)
    nullable: bool


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas = document["components"]["schemas"]
        self.routes = sorted(
            ((template, _template_regex(template)) for template in document["paths"]),
            key=lambda route: route[0].count("{"))  # literal segments win: fallback_origin before {id}

    @classmethod
    @cache
    def load(cls, path: Path = SPEC_PATH) -> Spec:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    # -- operations ---------------------------------------------------------------------------

    def route(self, path: str) -> str | None:
        """The spec's path template for a request path, e.g. /zones/{zone_id}/custom_hostnames."""
        return next((template for template, regex in self.routes if regex.fullmatch(path)), None)

    def operation(self, template: str, method: str = "get") -> dict[str, Any]:
        return self.document["paths"][template][method]

    def parameter(self, template: str, name: str, method: str = "get") -> dict[str, Any]:
        for parameter in self.operation(template, method).get("parameters", []):
            parameter = self.resolve(parameter)
            if parameter["name"] == name:
                return {**parameter, "schema": self.resolve(parameter.get("schema", {}))}
        raise KeyError(f"{template} has no parameter {name}")

    def answer_schema(self, template: str, status: str = "200", method: str = "get") -> dict[str, Any]:
        response = self.resolve(self.operation(template, method)["responses"][status])
        return self.resolve(response["content"]["application/json"]["schema"])

    def item_schema(self, template: str) -> dict[str, Any]:
        """The schema of one element of a list answer's `result` (or of a single answer's `result`)."""
        result = self.resolve(self.shape(self.answer_schema(template)).properties["result"])
        return self.resolve(result["items"]) if result.get("type") == "array" else result

    # -- schemas ------------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            kind, name = node["$ref"].split("/")[-2:]
            node = self.document["components"][kind][name]
        return node

    def shape(self, schema: Any) -> Shape:
        """Properties and required keys of an object schema, through allOf (and anyOf/oneOf: a key
        any branch requires counts as required, so nothing a valid answer needs is ever dropped)."""
        schema = self.resolve(schema) or {}
        properties: dict[str, Any] = {}
        required: set[str] = set(schema.get("required", []))
        open_ = bool(schema.get("additionalProperties"))
        for part in schema.get("allOf", []):
            inner = self.shape(part)
            properties.update(inner.properties)
            required |= inner.required
            open_ = open_ or inner.open
        for keyword in ("anyOf", "oneOf"):
            for part in schema.get(keyword, []):
                inner = self.shape(part)
                required |= inner.required
                for key, value in inner.properties.items():
                    properties.setdefault(key, value)
        properties.update(schema.get("properties", {}))
        return Shape(properties, frozenset(required), open_, bool(schema.get("nullable")))

    def child(self, schema: Any, key: str) -> Any:
        shape = self.shape(schema)
        if key in shape.properties:
            return self.resolve(shape.properties[key])
        additional = self.resolve(schema).get("additionalProperties") if isinstance(schema, Mapping) else None
        return self.resolve(additional) if isinstance(additional, Mapping) else {}

    def defines(self, schema: Any, key: str) -> bool:
        shape = self.shape(schema)
        return key in shape.properties or shape.open

    # -- answers a proxy may give ---------------------------------------------------------------

    def optional_paths(self, body: Any, schema: Any, prefix: tuple = ()) -> Iterator[tuple[tuple, bool]]:
        """(path, nullable) of every optional field present in an answer, outermost first."""
        schema = self.resolve(schema) or {}
        if isinstance(body, dict):
            shape = self.shape(schema)
            for key, value in body.items():
                sub = self.child(schema, key)
                if key in shape.properties and key not in shape.required:
                    yield prefix + (key,), bool(self.resolve(sub).get("nullable"))
                yield from self.optional_paths(value, sub, prefix + (key,))
        elif isinstance(body, list) and isinstance(schema.get("items"), Mapping):
            for index, value in enumerate(body):
                yield from self.optional_paths(value, schema["items"], prefix + (index,))

    def thin(self, body: Any, schema: Any, rng: random.Random, drop: float = 0.5, null: float = 0.3) -> Any:
        """A copy of a valid answer with optional fields dropped, and nullable ones nulled, at random."""
        schema = self.resolve(schema) or {}
        if isinstance(body, dict):
            shape = self.shape(schema)
            thinned = {}
            for key, value in body.items():
                sub = self.child(schema, key)
                optional = key in shape.properties and key not in shape.required
                if optional and rng.random() < drop:
                    continue
                if key in shape.properties and self.resolve(sub).get("nullable") and rng.random() < null:
                    thinned[key] = None
                    continue
                thinned[key] = self.thin(value, sub, rng, drop, null)
            return thinned
        if isinstance(body, list) and isinstance(schema.get("items"), Mapping):
            return [self.thin(value, schema["items"], rng, drop, null) for value in body]
        return body


def _template_regex(template: str) -> re.Pattern:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


# -- what the code reads ---------------------------------------------------------------------------------


class Reads:
    """Every field the code reads from API answers, and those the spec does not define there."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.read: set[str] = set()
        self.undefined: set[str] = set()

    def watch(self, value: Any, schema: Any, where: str) -> Any:
        """The answer (a dict or a list of them) with every key lookup checked against `schema`."""
        schema = self.spec.resolve(schema) or {}
        if isinstance(value, dict):
            return Watched(self, schema, where, {k: v for k, v in value.items()})
        if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
            return [self.watch(v, schema["items"], f"{where}[]") for v in value]
        return value

    def note(self, schema: Any, where: str, key: Any) -> None:
        field_ = f"{where}.{key}"
        self.read.add(field_)
        if not self.spec.defines(schema, str(key)):
            self.undefined.add(field_)


class Watched(dict):
    """A dict from an API answer whose lookups (`[k]`, `.get(k)`, `k in`) are checked against the spec."""

    def __init__(self, reads: Reads, schema: Any, where: str, items: dict) -> None:
        super().__init__(items)
        self._reads, self._schema, self._where = reads, schema, where

    def _child(self, key: Any, value: Any) -> Any:
        return self._reads.watch(value, self._reads.spec.child(self._schema, str(key)), f"{self._where}.{key}")

    def __getitem__(self, key: Any) -> Any:
        self._reads.note(self._schema, self._where, key)
        return self._child(key, super().__getitem__(key))

    def get(self, key: Any, default: Any = None) -> Any:
        self._reads.note(self._schema, self._where, key)
        return self._child(key, super().get(key, default)) if key in self.keys() else default

    def __contains__(self, key: object) -> bool:
        self._reads.note(self._schema, self._where, key)
        return super().__contains__(key)

    def items(self):  # iterating an answer's open map (custom_metadata) reads its values
        return [(k, self._child(k, v)) for k, v in super().items()]
