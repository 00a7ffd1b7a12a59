"""Round-trip edits of customers.yaml for `import`: new entries and hostnames, the file's own look kept.

ruamel.yaml's round trip keeps comments, order and quoting; the file's own indentation is measured
and reused, each new entry gets a blank line before it (the first a comment saying where it came
from), and values are quoted wherever YAML 1.1, which the validator reads, would read them otherwise.
What to add is import_.py's to decide; this module only writes it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from infra.model.customers import CustomerHostname, EntryOverrides, ValidationRules, parse_customers
from infra.model.customers.ssl_fields import NAMES, SSL_FIELD

IMPORT_COMMENT = "imported from Cloudflare by `saas-domains import`; review the ids and grouping"


class CustomersEditor:
    """Round-trip edit of the customers file in its own indentation."""

    PROBE_ID, PROBE_HOSTNAME = "saas-domains-import-probe", "probe.saas-domains-import.example"

    def __init__(self, text: str) -> None:
        self.yaml = YAML()
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096
        _, sequence, offset = load_yaml_guess_indent(text)
        if sequence is None:
            sequence, offset = 4, 2
        self.offset = offset or 0
        self.yaml.indent(mapping=_mapping_indent(text), sequence=sequence, offset=self.offset)
        self.document = self.yaml.load(text)
        self.customers: CommentedSeq = self.document["customers"]
        self.commented = False

    def defaults_probe(self, rules: ValidationRules, path: str) -> CustomerHostname:
        """What the file's defaults give a new customer, read back through the real validation.

        The probe goes into a separate copy of the document: removing an item from a round-trip
        sequence shifts the comments attached to its neighbours.
        """
        copy = CustomersEditor(self.dump())
        copy.customers.append(CommentedMap([("id", self.PROBE_ID), ("hostnames", [self.PROBE_HOSTNAME])]))
        result = parse_customers(copy.dump(), rules, path=path)
        return next(h for h in result.hostnames if h.hostname == self.PROBE_HOSTNAME)

    def add(self, customer_id: str, hostnames: list[str], overrides: EntryOverrides | None) -> None:
        """Append to an existing entry (overrides None) or add a new entry at the end, with its overrides."""
        if overrides is None:
            entry = next(e for e in self.customers if e.get("id") == customer_id)
            _extend(entry["hostnames"], hostnames)
            return
        entry = CommentedMap([("id", _scalar(customer_id)), ("hostnames", CommentedSeq(hostnames))])
        if overrides.ssl:
            entry["ssl"] = _flow({k: _ssl_value(k, v) for k, v in overrides.ssl})
        if overrides.metadata:
            entry["metadata"] = _flow({_scalar(k): _scalar(v, always_quote=True) for k, v in overrides.metadata})
        if overrides.origin:
            entry["origin"] = overrides.origin
        if not self.customers:
            self.customers.fa.set_block_style()
        self.customers.append(entry)
        self._comment_before(len(self.customers) - 1, "" if self.commented else IMPORT_COMMENT)
        self.commented = True

    def _comment_before(self, index: int, comment: str) -> None:
        """A blank line before each new entry (like the example file), the first one with a comment."""
        self.customers.yaml_set_comment_before_after_key(index, before=comment or "-", indent=self.offset)
        if index == 0:
            return
        token = self.customers.ca.items[index][1][0]
        token.value = "\n" + (" " * self.offset + token.value.lstrip(" ") if comment else "")

    def dump(self) -> str:
        stream = io.StringIO()
        self.yaml.dump(self.document, stream)
        return stream.getvalue()


def _extend(sequence: CommentedSeq, items: list[str]) -> None:
    """Append, moving a comment (or the blank line) that followed the old last item to the new one."""
    trailing = sequence.ca.items.pop(len(sequence) - 1, None)
    sequence.extend(items)
    if trailing is not None:
        sequence.ca.items[len(sequence) - 1] = trailing


def _mapping_indent(text: str) -> int:
    """The indentation of the first nested mapping key (2 when the file shows none)."""
    lines = text.splitlines()
    for line, following in zip(lines, lines[1:], strict=False):
        if re.match(r"[A-Za-z_][\w-]*:\s*(#.*)?$", line):
            nested = re.match(r"( +)[^\s#-]", following)
            if nested:
                return len(nested.group(1))
    return 2


def _flow(values: Mapping[str, Any]) -> CommentedMap:
    mapping = CommentedMap(values)
    mapping.fa.set_flow_style()
    return mapping


def _scalar(value: str, *, always_quote: bool = False) -> Any:
    """Quote a string whenever YAML 1.1 (what the validator reads) would not read it as that string."""
    if always_quote or yaml.safe_load(value) != value:
        return DoubleQuotedScalarString(value)
    return value


def _ssl_value(key: str, value: Any) -> Any:
    row = SSL_FIELD[key]
    if row.kind == NAMES:
        return CommentedSeq(value)
    if isinstance(value, str):
        return _scalar(value, always_quote=row.quoted)
    return value
