"""The SSL-field table is the one source: the model, the validator, the importer and the resource read it.

Each row is also held to what Cloudflare publishes: the locked provider SDK's schema (its input names
and "Available values") and Cloudflare's OpenAPI spec (the API paths the importer reads).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pulumi_cloudflare as cloudflare
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.components import customer_hostnames
from infra.model.customers import SSL_KEYS, HostnameSsl, ValidationRules, parse_customers
from infra.model.customers.ssl_fields import (
    BOOLEAN,
    CHOICE,
    NAMES,
    ON_OFF,
    SSL_FIELD,
    SSL_FIELDS,
    TLS_VERSION,
    SslField,
)
from infra.operations import import_editor, import_plan
from tests.conformance.sdk_schema import resource_schema
from tests.contract.spec import Spec

HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
ROWS = pytest.mark.parametrize("row", SSL_FIELDS, ids=lambda row: row.key)
# A value other than the default for each row, all valid together (a wildcard certificate needs txt).
OTHER = {"method": "txt", "type": "dv", "min_tls_version": "1.3", "certificate_authority": "ssl_com",
         "bundle_method": "force", "wildcard": True, "ciphers": ("ECDHE-RSA-AES128-GCM-SHA256",),
         "http2": "off", "tls13": "off", "early_hints": "on"}


def sdk_property(row: SslField):
    shape = resource_schema(HOSTNAME).properties["ssl"].shape
    for part in row.input_path[:-1]:
        shape = shape.properties[part].shape
    return shape.properties[row.input_path[-1]]


def test_every_field_of_the_resolved_ssl_block_is_a_row_in_the_table_order_with_the_rows_default():
    fields = dataclasses.fields(HostnameSsl)
    assert tuple(f.name for f in fields) == tuple(row.key for row in SSL_FIELDS) == SSL_KEYS
    assert {f.name: f.default for f in fields} == {row.key: row.default for row in SSL_FIELDS}
    assert set(OTHER) == set(SSL_KEYS)


@ROWS
def test_the_defaults_and_the_accepted_values_are_ones_the_file_accepts(row: SslField):
    assert row.default is None if row.allowed is None else row.default in row.allowed or row.nullable
    if row.allowed is not None:
        assert OTHER[row.key] in row.allowed
    assert not set(row.refused) & set(row.allowed or ()), "a value is both accepted and refused"


@ROWS
def test_each_row_is_an_input_of_the_locked_provider_with_the_values_it_lists(row: SslField):
    prop = sdk_property(row)
    if row.kind in (CHOICE, ON_OFF, TLS_VERSION):
        assert prop.shape.kind == "string" and prop.shape.enum, f"{row.key}: the SDK lists no values"
        assert set(row.allowed) <= set(prop.shape.enum), f"{row.key}: accepts values the provider does not"
    elif row.kind == BOOLEAN:
        assert prop.shape.kind == "boolean"
    else:
        assert row.kind == NAMES and prop.shape.kind == "array" and prop.shape.items.kind == "string"
    if row.kind == TLS_VERSION:  # below our floor, yet valid for Cloudflare
        assert set(row.refused) <= set(prop.shape.enum)
    args_class = cloudflare.CustomHostnameSslSettingsArgs if row.in_settings else cloudflare.CustomHostnameSslArgs
    assert row.python_arg in inspect.signature(args_class).parameters


@ROWS
def test_each_row_is_where_cloudflares_api_spec_puts_it(row: SslField):
    spec = Spec.load()
    schema: Any = spec.schemas["tls-certificates-and-hostnames_ssl"]
    for part in row.api_path:
        assert spec.defines(schema, part), f"{row.key}: the API's ssl object has no {'.'.join(row.api_path)}"
        schema = spec.child(schema, part)
    if schema.get("enum"):
        assert set(row.allowed) <= set(schema["enum"])


def test_the_component_sends_every_row_at_its_input_path():
    args = customer_hostnames.ssl_args(HostnameSsl(**OTHER))
    for row in SSL_FIELDS:
        value = getattr(args.settings if row.in_settings else args, row.python_arg)
        assert value == (list(OTHER[row.key]) if row.kind == NAMES else OTHER[row.key]), row.key


def api_ssl(values: dict[str, Any]) -> dict[str, Any]:
    """A custom hostname's `ssl` object as the API reports it, each value at its row's API path."""
    ssl: dict[str, Any] = {}
    for row in SSL_FIELDS:
        if values[row.key] is None:
            continue  # the API leaves out what was never set
        *parents, last = row.api_path
        place = ssl
        for part in parents:
            place = place.setdefault(part, {})
        place[last] = list(values[row.key]) if row.kind == NAMES else values[row.key]
    return ssl


def test_the_importer_reads_every_row_at_its_api_path():
    assert import_plan.live_ssl({"hostname": "shop.example.com", "ssl": api_ssl(OTHER)}) == OTHER


def _row_values(row: SslField) -> st.SearchStrategy:
    if row.kind == NAMES:
        values = st.lists(st.sampled_from(("ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA", "AES256-SHA")),
                          min_size=1, max_size=3).map(tuple)
    else:
        values = st.sampled_from(row.allowed)
    return st.one_of(st.none(), values) if row.nullable else values


def _valid_together(values: dict[str, Any]) -> dict[str, Any]:
    """A wildcard certificate needs TXT validation: the one rule across rows."""
    return {**values, "method": "txt"} if values["wildcard"] else values


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.fixed_dictionaries({row.key: _row_values(row) for row in SSL_FIELDS}).map(_valid_together))
def test_any_ssl_block_the_table_allows_survives_import_validation_and_the_resource(values: dict[str, Any]):
    """What Cloudflare reports, in the API's places, is what the importer writes, validation reads back
    and the component sends: one table drives all three."""
    rules = ValidationRules("mailito.com")
    item = {"id": "id-shop", "hostname": "shop.example.com", "ssl": api_ssl(values)}
    plan = import_plan.plan_import("customers: []\n", "customers.yaml", rules, [item])
    adopted = parse_customers(plan.text, rules).hostnames[0].ssl
    # a null the file gives (Cloudflare chooses the certificate authority) already matches whatever it chose
    expected = {**values, **{row.key: None for row in SSL_FIELDS if row.null_matches_any and row.default is None}}
    assert adopted == HostnameSsl(**expected)
    args = customer_hostnames.ssl_args(adopted)
    for row in SSL_FIELDS:
        sent = getattr(args.settings if row.in_settings else args, row.python_arg)
        value = expected[row.key]
        assert sent == (list(value) if row.kind == NAMES and value is not None else value), row.key


def test_refused_values_are_refused_with_the_rows_reason():
    for row in SSL_FIELDS:
        for value in row.refused:
            text = f"customers:\n  - id: acme\n    hostnames: [acme.example]\n    ssl: {{{row.key}: '{value}'}}\n"
            with pytest.raises(ValueError) as raised:
                parse_customers(text, ValidationRules("mailito.com"))
            assert row.refusal(value) in str(raised.value)


@pytest.mark.parametrize("module", [import_plan, import_editor, customer_hostnames], ids=lambda m: m.__name__)
def test_the_importer_and_the_component_name_no_ssl_field_themselves(module):
    """They iterate the table: a field named in their code would be a second copy of a row."""
    names = {row.key for row in SSL_FIELDS} | {part for row in SSL_FIELDS for part in row.api_path}
    names -= {"settings", "type", "method", "wildcard"}  # words they also use for other things
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    keywords = {node.arg for node in ast.walk(tree) if isinstance(node, ast.keyword)}
    assert not names & (literals | attributes | keywords)


def test_the_table_is_read_only():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SSL_FIELD["method"].default = "txt"  # type: ignore[misc]
    with pytest.raises(TypeError):
        SSL_FIELD["method"].refused["email"] = "fine"  # type: ignore[index]
