"""The values inside the customers file: mapping keys, strings, and an entry's ssl, metadata and origin.

The validator (`validate.py`) walks the file's structure (top level, entries, hostnames, ids) and hands
every value here; each check reports what is wrong through the validator's `report` and returns the
value for the model, or `INVALID` (ssl values, left out of the model) or None. The ssl checks follow
the SSL-field table (`ssl_fields.py`): a row's kind picks the check, its values and reasons the words.
The wording of these messages is pinned by tests/model/test_customers.py.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import Any

import yaml

from infra.model.customers.model import EntryOverrides
from infra.model.customers.ssl_fields import BOOLEAN, CHOICE, NAMES, ON_OFF, SSL_FIELD, SSL_KEYS, TLS_VERSION, SslField
from infra.model.customers.yaml_tree import (
    BOOL,
    FLOAT,
    INT,
    STR,
    MappingNode,
    Node,
    Rejected,
    Scalar,
    SequenceNode,
    is_null,
    kind,
)
from infra.model.hostnames import in_zone, normalise_hostname
from infra.model.messages import show

INVALID = object()  # a value was reported as wrong; leave it out of the model

Report = Callable[[int | None, str | None, str], None]  # (line, entry, message)
# How a refused value's reason follows it: "'email' validation is retired: ...", "'1.0': TLS 1.0 is below ...".
_REFUSED = {CHOICE: "{where}: {value} {reason}", TLS_VERSION: "{where}: {value}: {reason}"}


class ValueChecks:
    """Checks of single values, reporting through the validator; `zone` is the normalised SaaS zone."""

    def __init__(self, report: Report, zone: str) -> None:
        self.report = report
        self.zone = zone

    def overrides(self, fields: dict[str, Node], entry: str) -> tuple[EntryOverrides, int | None]:
        """ssl, metadata and origin, shared by defaults and customers; and the line of `ssl`, for messages."""
        ssl = self.ssl(fields["ssl"], entry) if "ssl" in fields else {}
        metadata = self.metadata(fields["metadata"], entry) if "metadata" in fields else {}
        origin = self.origin(fields["origin"], entry) if "origin" in fields else None
        ssl_line = fields["ssl"].line if "ssl" in fields else None
        return EntryOverrides(tuple(ssl.items()), tuple(metadata.items()), origin), ssl_line

    def fields(
        self, node: MappingNode, allowed: tuple[str, ...], entry: str | None, what: str
    ) -> dict[str, Node]:
        """Map allowed key -> value node; report unknown, duplicate and odd keys."""
        found: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key, value in node.pairs:
            if isinstance(key, Rejected):
                continue
            if not isinstance(key, Scalar):
                self.report(key.line, entry, f"{what}s must be plain strings, got {kind(key)}")
                continue
            name = key.value
            if name in first_line:
                self.report(key.line, entry, _duplicate_key(what, name, first_line[name]))
                continue
            first_line[name] = key.line
            if name not in allowed or key.tag != STR:
                self.report(key.line, entry, _unknown_key(what, name, allowed))
                continue
            found[name] = value
        return found

    def ssl(self, node: Node, entry: str) -> dict[str, Any]:
        """Return the valid ssl overrides given (invalid ones are reported)."""
        if isinstance(node, Rejected):
            return {}
        if not isinstance(node, MappingNode):
            self.report(node.line, entry, f"'ssl' must be a mapping of {listed(SSL_KEYS)}, got {kind(node)}")
            return {}
        overrides: dict[str, Any] = {}
        for name, value in self.fields(node, SSL_KEYS, entry, "ssl key").items():
            parsed = self.ssl_value(name, value, entry)
            if parsed is not INVALID:
                overrides[name] = parsed
        return overrides

    def ssl_value(self, name: str, node: Node, entry: str) -> Any:
        """Check one ssl value the way its row's kind asks."""
        row = SSL_FIELD[name]
        check = {TLS_VERSION: self.tls_version, BOOLEAN: self.boolean, NAMES: self.names}.get(row.kind, self.choice)
        return check(row, node, entry)

    def choice(self, row: SslField, node: Node, entry: str) -> Any:
        """One of the row's values (null too when nullable), or its reason when the row refuses it."""
        where = f"ssl.{row.key}"
        if isinstance(node, Rejected):
            return INVALID
        if row.nullable and is_null(node):
            return None
        if row.kind == ON_OFF and isinstance(node, Scalar) and node.tag == BOOL:
            if node.value.lower() in row.allowed:  # YAML 1.1 reads bare on/off as booleans
                return node.value.lower()
            self.report(node.line, entry, f'{where}: expected "on" or "off", got a boolean ({node.value})')
            return INVALID
        value = self.string(node, where, entry)
        if value is None:
            return INVALID
        reason = row.refusal(value)
        if reason is not None:
            wording = _REFUSED.get(row.kind, _REFUSED[CHOICE])
            self.report(node.line, entry, wording.format(where=where, value=show(value), reason=reason))
            return INVALID
        if value not in row.allowed:
            extra = " or null (let Cloudflare choose)" if row.nullable else ""
            message = f"{where}: {show(value)} is not allowed; use one of {listed(row.allowed)}{extra}"
            self.report(node.line, entry, message)
            return INVALID
        return value

    def tls_version(self, row: SslField, node: Node, entry: str) -> Any:
        """A version written as a YAML number is refused with how to quote it; a string is a choice."""
        where = f"ssl.{row.key}"
        if isinstance(node, Scalar) and node.tag in (FLOAT, INT):
            raw = node.value
            if raw in row.allowed:
                reason = f'quote it: "{raw}"'
            else:
                reason = row.refusal(raw) or f"use one of {listed(row.allowed)}, quoted"
            self.report(node.line, entry, f"{where}: {raw} is a YAML number, not a string; {reason}")
            return INVALID
        return self.choice(row, node, entry)

    def boolean(self, row: SslField, node: Node, entry: str) -> Any:
        if isinstance(node, Rejected):
            return INVALID
        if isinstance(node, Scalar) and node.tag == BOOL:
            return yaml.constructor.SafeConstructor.bool_values[node.value.lower()]
        self.report(node.line, entry, f"ssl.{row.key}: expected true or false, got {kind(node)}")
        return INVALID

    def names(self, row: SslField, node: Node, entry: str) -> Any:
        where = f"ssl.{row.key}"
        if isinstance(node, Rejected):
            return INVALID
        if is_null(node):
            return None
        if not isinstance(node, SequenceNode):
            self.report(node.line, entry, f"{where}: expected a list of cipher names, got {kind(node)}")
            return INVALID
        if not node.items:
            message = f"{where}: the list is empty; leave the key out to use Cloudflare's defaults"
            self.report(node.line, entry, message)
            return INVALID
        names = [
            self.string(item, f"{where}[{index}]", entry, non_empty=True)
            for index, item in enumerate(node.items)
        ]
        return INVALID if None in names else tuple(names)

    def metadata(self, node: Node, entry: str) -> dict[str, str]:
        if isinstance(node, Rejected):
            return {}
        if not isinstance(node, MappingNode):
            message = f"'metadata' must be a mapping of strings to strings, got {kind(node)}"
            self.report(node.line, entry, message)
            return {}
        result: dict[str, str] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.pairs:
            key = self.string(key_node, "metadata key", entry, non_empty=True)
            if key is None:
                continue
            if key in first_line:
                self.report(key_node.line, entry, _duplicate_key("metadata key", key, first_line[key]))
                continue
            first_line[key] = key_node.line
            value = self.string(value_node, _key_path("metadata", key), entry)
            if value is not None:
                result[key] = value
        return result

    def origin(self, node: Node, entry: str) -> str | None:
        raw = self.string(node, "origin", entry)
        if raw is None:
            return None
        try:
            name = normalise_hostname(raw)
        except ValueError as exc:
            self.report(node.line, entry, f"origin {show(raw)}: {exc}")
            return None
        # Cloudflare sends the hostname's traffic to a proxied A/AAAA/CNAME record of the SaaS zone
        # (custom origin servers: Enterprise). The apex is the SaaS's own site, never a custom origin.
        if name == self.zone:
            self.report(node.line, entry, f"origin {show(raw)}: is the SaaS zone's apex; a custom origin must be a "
                                          f"proxied record inside {self.zone!r}, such as eu.{self.zone}")
            return None
        if not in_zone(name, self.zone):
            self.report(
                node.line,
                entry,
                f"origin {show(raw)}: must be a proxied record inside the SaaS zone {self.zone!r}",
            )
            return None
        return name

    def string(self, node: Node, where: str, entry: str | None, *, non_empty: bool = False) -> str | None:
        """Return the node's string, or report what type it was and how to quote it."""
        if isinstance(node, Rejected):
            return None
        if isinstance(node, Scalar) and node.tag == STR:
            if non_empty and not node.value:
                self.report(node.line, entry, f"{where}: must not be empty")
                return None
            return node.value
        self.report(node.line, entry, expected_string(where, node))
        return None


# -- message wording (expected_string and listed are validate.py's too) ----------------


def expected_string(where: str, node: Node) -> str:
    """'expected a string, got a boolean (no)' plus how to quote it."""
    message = f"{where}: expected a string, got {kind(node)}"
    if isinstance(node, Scalar) and node.value and len(node.value) <= 100:
        message += f"; quote it if you mean the text: {json.dumps(node.value, ensure_ascii=False)}"
    return message


def listed(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


def _key_path(prefix: str, key: str) -> str:
    """'metadata.tier', or a quoted form when the key is odd or very long."""
    simple = len(key) <= 40 and key.replace("-", "").replace("_", "").isalnum()
    return f"{prefix}.{key}" if simple else f"{prefix}[{show(key)}]"


def _unknown_key(what: str, name: str, allowed: tuple[str, ...]) -> str:
    message = f"unknown {what} {show(name)}"
    if len(name) <= 100:
        close = difflib.get_close_matches(name.lower(), allowed, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return f"{message} (allowed: {', '.join(allowed)})"


def _duplicate_key(what: str, name: str, first_line: int) -> str:
    return (
        f"duplicate {what} {show(name)} (first at line {first_line}); "
        "YAML would silently keep only the last one"
    )
