"""The provider schemas of the locked SDK versions, read back from the installed Python SDKs.

Pulumi generates each provider's Python SDK from the provider's `schema.json`: every resource's
`<Resource>Args` class and every nested `...Args` input type carries the schema's property names
(`@pulumi.getter(name="zoneId")`), their types (`pulumi.Input[...]` annotations), which inputs are
required (annotations that do not admit None) and the schema's descriptions (docstrings). Enum types
become `enum.Enum` classes. So the schema of exactly the version `uv.lock` pins is here, with no copy
to keep in step: upgrading a provider upgrades the schema the tests check against.

One artefact of Pulumi's doc conversion is undone here: the Cloudflare descriptions' "Available
values" (taken from terraform-provider-cloudflare's validators) come with `_` rendered as `*`
(`"lets*encrypt"` for `lets_encrypt`), since the converter read them as Markdown emphasis.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import importlib
import inspect
import re
import typing
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import Output
from pulumi import _types as pulumi_types

PACKAGES = {"aws": "pulumi_aws", "cloudflare": "pulumi_cloudflare", "random": "pulumi_random", "tls": "pulumi_tls"}

_AVAILABLE_VALUES = re.compile(r"Available values:\s*((?:\"[^\"]*\"(?:,\s*)?)+)")
_QUOTED = re.compile(r"\"([^\"]*)\"")


class SchemaError(LookupError):
    """The SDK has no such resource, function or type: the program uses something the provider lacks."""


@dataclass
class Shape:
    """One schema type: a primitive, an array, a map, an object, or a choice of those."""

    kind: str  # string | integer | number | boolean | array | map | object | any | union
    name: str = ""  # the SDK class an object or enum came from, for messages
    items: Shape | None = None  # array and map values
    properties: dict[str, Property] = field(default_factory=dict)  # object: by schema (wire) name
    enum: tuple[Any, ...] | None = None  # allowed values (SDK enum classes, "Available values")
    options: tuple[Shape, ...] = ()  # union members


@dataclass
class Property:
    name: str  # the schema name, as sent on the wire (camelCase)
    shape: Shape
    required: bool
    description: str = ""


@dataclass
class Function:
    token: str
    arguments: dict[str, Property]


def available_values(description: str) -> tuple[str, ...] | None:
    """The values a Cloudflare description lists after "Available values:", `*` read back as `_`."""
    match = _AVAILABLE_VALUES.search(description or "")
    if not match:
        return None
    return tuple(value.replace("*", "_") for value in _QUOTED.findall(match.group(1)))


def _module_for(token: str) -> tuple[Any, str]:
    """`aws:lb/listener:Listener` → (pulumi_aws.lb, "Listener"); `index` is the package itself."""
    try:
        package, module_path, member = token.split(":")
    except ValueError:
        raise SchemaError(f"{token!r} is not a provider type token") from None
    if package not in PACKAGES:
        raise SchemaError(f"{token!r}: no SDK for the provider {package!r}")
    module_name = module_path.split("/")[0]
    dotted = PACKAGES[package] + ("" if module_name == "index" else f".{module_name}")
    try:
        return importlib.import_module(dotted), member
    except ImportError:
        raise SchemaError(f"{token!r}: the SDK has no module {dotted}") from None


def _strip_input(hint: Any) -> tuple[list[Any], bool]:
    """The plain types an `Input[...]` annotation admits, and whether it admits None."""
    members = typing.get_args(hint) if _is_union(hint) else (hint,)
    plain: list[Any] = []
    nullable = False
    for member in members:
        origin = typing.get_origin(member)
        if member is type(None):
            nullable = True
        elif origin in (collections.abc.Awaitable, typing.Awaitable) or origin is Output or member is Output:
            continue  # Awaitable[T] and Output[T] carry the same T
        elif _is_union(member):
            inner, inner_nullable = _strip_input(member)
            plain.extend(inner)
            nullable = nullable or inner_nullable
        else:
            plain.append(member)
    return plain, nullable


def _is_union(hint: Any) -> bool:
    return pulumi_types._is_union_type(hint)


def shape_of(hint: Any) -> tuple[Shape, bool]:
    """The schema shape an SDK annotation stands for, and whether it admits None."""
    plain, nullable = _strip_input(hint)
    plain = [p for p in plain if not _is_typed_dict(p) and not pulumi_types.is_output_type(p)]
    shapes: list[Shape] = []
    for member in plain:
        shape = _shape_of_plain(member)
        if shape is not None and all((shape.kind, shape.name) != (known.kind, known.name) for known in shapes):
            shapes.append(shape)
    # `Union[str, SomeEnum]` (an open enum in pulumi-aws) admits any string: the enum adds nothing.
    if len(shapes) > 1 and any(s.kind == "string" and s.enum is None for s in shapes):
        shapes = [s for s in shapes if not (s.kind == "string" and s.enum is not None)]
    if not shapes:
        return Shape("any"), nullable
    if len(shapes) == 1:
        return shapes[0], nullable
    return Shape("union", options=tuple(shapes)), nullable


def _is_typed_dict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__annotations__") and tp is not dict


def _shape_of_plain(tp: Any) -> Shape | None:
    if tp is str:
        return Shape("string")
    if tp is bool:
        return Shape("boolean")
    if tp is int:
        return Shape("integer")
    if tp is float:
        return Shape("number")
    if tp is Any or tp is object:
        return Shape("any")
    if isinstance(tp, type) and issubclass(tp, (pulumi.Asset, pulumi.Archive)):
        return Shape("asset", name=tp.__name__)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = tuple(member.value for member in tp)
        kind = "string" if all(isinstance(v, str) for v in values) else "number"
        return Shape(kind, name=tp.__name__, enum=values)
    if isinstance(tp, type) and pulumi_types.is_input_type(tp):
        return object_shape(tp)
    origin = typing.get_origin(tp)
    if origin in (collections.abc.Sequence, list, typing.Sequence):
        items, _ = shape_of(typing.get_args(tp)[0])
        return Shape("array", items=items)
    if origin in (collections.abc.Mapping, dict, typing.Mapping):
        args = typing.get_args(tp)
        values, _ = shape_of(args[1]) if len(args) == 2 else (Shape("any"), True)
        return Shape("map", items=values)
    if tp in (dict, list):
        return Shape("map" if tp is dict else "array", items=Shape("any"))
    raise SchemaError(f"unrecognised SDK annotation {tp!r}")


_OBJECT_SHAPES: dict[type, Shape] = {}


def object_shape(cls: type) -> Shape:
    """An `@pulumi.input_type` class as an object shape; cached before it is filled, so recursive types end."""
    if cls in _OBJECT_SHAPES:
        return _OBJECT_SHAPES[cls]
    shape = _OBJECT_SHAPES[cls] = Shape("object", name=cls.__name__)
    required = pulumi_types._required_property_names(cls)
    descriptions = {pulumi_name: (prop.fget.__doc__ or "") for _, pulumi_name, prop in pulumi_types._py_properties(cls)}
    for pulumi_name, hint in pulumi_types._raw_return_hints(cls).items():
        prop_shape, _ = shape_of(hint)
        description = descriptions.get(pulumi_name, "")
        values = available_values(description)
        if values and prop_shape.kind == "string":
            prop_shape = Shape("string", name=f"{cls.__name__}.{pulumi_name}", enum=values)
        shape.properties[pulumi_name] = Property(pulumi_name, prop_shape, pulumi_name in required, description)
    return shape


@functools.cache
def resource_schema(token: str) -> Shape:
    """The input properties of a resource type, from its `<Resource>Args` class."""
    module, member = _module_for(token)
    args_class = getattr(module, f"{member}Args", None)
    resource_class = getattr(module, member, None)
    if args_class is None or resource_class is None:
        raise SchemaError(f"{token!r}: the SDK {module.__name__} has no resource {member}")
    declared = _registered_token(resource_class)
    if declared != token:
        raise SchemaError(f"{token!r}: the SDK registers {member} as {declared!r}")
    return object_shape(args_class)


def _registered_token(resource_class: type) -> str | None:
    """The type token the SDK class registers with (the literal in its `_internal_init`)."""
    source = inspect.getsource(resource_class._internal_init)
    match = re.search(r"super\(\w+, __self__\).__init__\(\s*'([^']+)'", source)
    return match.group(1) if match else None


@functools.cache
def function_schema(token: str) -> Function:
    """The arguments of a provider function (a lookup) from the SDK function's signature."""
    module, member = _module_for(token)
    python_name = re.sub(r"(?<!^)(?=[A-Z])", "_", member).lower()
    function = getattr(module, python_name, None)
    if function is None:
        raise SchemaError(f"{token!r}: the SDK {module.__name__} has no function {python_name}")
    source = inspect.getsource(function)
    if f"'{token}'" not in source:
        raise SchemaError(f"{token!r}: {module.__name__}.{python_name} does not invoke that token")
    wire_names = dict((python, wire) for wire, python in re.findall(r"__args__\['(\w+)'\] = (\w+)", source))
    hints = typing.get_type_hints(function, globalns=vars(inspect.getmodule(function)))
    docs = _param_docs(function.__doc__ or "")
    arguments = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name == "opts":
            continue
        wire = wire_names.get(parameter.name)
        if wire is None:
            raise SchemaError(f"{token!r}: cannot find the wire name of argument {parameter.name}")
        shape, _ = shape_of(hints[parameter.name])
        values = available_values(docs.get(parameter.name, ""))
        if values and shape.kind == "string":
            shape = Shape("string", name=f"{member}.{wire}", enum=values)
        arguments[wire] = Property(wire, shape, parameter.default is inspect.Parameter.empty,
                                   docs.get(parameter.name, ""))
    return Function(token, arguments)


def _param_docs(doc: str) -> dict[str, str]:
    """`:param type name: text` blocks of an SDK docstring, by Python name."""
    found: dict[str, str] = {}
    for match in re.finditer(r":param (?:[^:]*? )?(\w+): (.*?)(?=\n\s*:param |\n\s*:return|\Z)", doc, re.S):
        found[match.group(1)] = match.group(2)
    return found
