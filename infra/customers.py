"""Load and validate ``customers.yaml`` into an immutable model.

This is the pure core of the program: no Pulumi, no network. The caller
declares cloud resources only from a fully valid :class:`CustomersFile`; if
anything is wrong, :class:`CustomersFileError` lists *every* problem at once
(file, line, customer entry, what is wrong) and nothing is declared.

The YAML is read as a stream of parser events and turned into a small node
tree here (instead of ``yaml.safe_load``/``yaml.compose``) so that every value
keeps its line number, duplicate keys are visible, and anchors, aliases and
tags are rejected before they can expand or construct anything.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import ipaddress
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import idna
import yaml

__all__ = [
    "ALLOWED_BUNDLE_METHODS",
    "ALLOWED_CERTIFICATE_AUTHORITIES",
    "ALLOWED_MIN_TLS_VERSIONS",
    "ALLOWED_SSL_METHODS",
    "DEFAULT_MAX_HOSTNAMES",
    "Customer",
    "CustomerHostname",
    "CustomersFile",
    "CustomersFileError",
    "Problem",
    "SslSettings",
    "ValidationRules",
    "load_customers",
    "normalise_hostname",
    "parse_customers",
]

DEFAULT_MAX_HOSTNAMES = 5000

ALLOWED_SSL_METHODS = ("http", "txt")
# Cloudflare retired e-mail and CNAME DCV with DigiCert: "CNAME and Email DCV will be deprecated.
# Customers will be required to use HTTP or TXT DCV" (SSL docs, DigiCert offboarding, custom hostnames).
RETIRED_SSL_METHODS = ("email", "cname")
ALLOWED_SSL_TYPES = ("dv",)
ALLOWED_MIN_TLS_VERSIONS = ("1.2", "1.3")
REJECTED_MIN_TLS_VERSIONS = ("1.0", "1.1")  # valid for Cloudflare, below our floor
ALLOWED_CERTIFICATE_AUTHORITIES = ("google", "lets_encrypt", "ssl_com")
ALLOWED_BUNDLE_METHODS = ("ubiquitous", "optimal", "force")
ALLOWED_ON_OFF = ("on", "off")

ALLOW_WILDCARDS_SETTING = "saas-domains:allowWildcards"
MAX_HOSTNAMES_SETTING = "saas-domains:maxHostnames"

TOP_LEVEL_KEYS = ("defaults", "customers")
DEFAULTS_KEYS = ("ssl", "metadata", "origin")
CUSTOMER_KEYS = ("id", "hostnames", "ssl", "metadata", "origin")

MAX_PROBLEMS_SHOWN = 200  # a readable message; CustomersFileError.problems keeps every one
_MAX_HOSTNAME_LENGTH = 253
_MAX_LABEL_LENGTH = 63
# Longer raw input cannot be a hostname; rejecting it early keeps IDNA cheap.
_MAX_RAW_HOSTNAME_LENGTH = 1024


# --------------------------------------------------------------------------
# Public model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationRules:
    """Stack-dependent rules; the zone is normalised so comparisons are exact."""

    zone: str
    allow_wildcards: bool = False
    max_hostnames: int = DEFAULT_MAX_HOSTNAMES

    def __post_init__(self) -> None:
        try:
            zone = normalise_hostname(self.zone)
        except ValueError as exc:
            raise ValueError(f"invalid SaaS zone {self.zone!r}: {exc}") from None
        object.__setattr__(self, "zone", zone)
        if not isinstance(self.allow_wildcards, bool):
            raise TypeError("allow_wildcards must be a bool")
        if (
            not isinstance(self.max_hostnames, int)
            or isinstance(self.max_hostnames, bool)
            or self.max_hostnames < 0
        ):
            raise ValueError(f"max_hostnames must be a non-negative int, got {self.max_hostnames!r}")


@dataclass(frozen=True)
class SslSettings:
    """Cloudflare custom hostname ``ssl`` block.

    Every field has an explicit default (not None where avoidable) because the
    Pulumi provider shows drift for ssl fields left unset.
    """

    method: str = "http"
    type: str = "dv"
    min_tls_version: str = "1.2"
    certificate_authority: str | None = None
    bundle_method: str = "ubiquitous"
    wildcard: bool = False
    ciphers: tuple[str, ...] | None = None
    http2: str = "on"
    tls13: str = "on"
    early_hints: str = "off"


SSL_KEYS = tuple(f.name for f in dataclasses.fields(SslSettings))


@dataclass(frozen=True)
class CustomerHostname:
    """One Cloudflare custom hostname, with the customer's merged settings."""

    hostname: str
    customer_id: str
    ssl: SslSettings
    metadata: tuple[tuple[str, str], ...]
    origin: str | None
    line: int

    @property
    def metadata_dict(self) -> dict[str, str]:
        return dict(self.metadata)


@dataclass(frozen=True)
class Customer:
    """One customer entry; ``line`` points at the entry for messages and reviews."""

    id: str
    hostnames: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class CustomersFile:
    """The validated file: customers in file order, hostnames sorted for stable diffs."""

    path: str
    customers: tuple[Customer, ...]
    hostnames: tuple[CustomerHostname, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, located precisely enough to fix it."""

    path: str
    line: int | None
    entry: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.path if self.line is None else f"{self.path}:{self.line}"]
        if self.entry:
            parts.append(self.entry)
        parts.append(self.message)
        return ": ".join(parts)


class CustomersFileError(ValueError):
    """The customers file is invalid; carries every problem found, sorted by line."""

    def __init__(self, path: str, problems: Iterable[Problem]) -> None:
        self.path = path
        self.problems: tuple[Problem, ...] = tuple(
            sorted(problems, key=lambda p: (p.line is not None, p.line or 0))
        )
        super().__init__(path, self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.path}: {count} {noun}, no change was made:"]
        lines.extend(f"  {problem}" for problem in self.problems[:MAX_PROBLEMS_SHOWN])
        if count > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {count - MAX_PROBLEMS_SHOWN} more problems "
                         "(`saas-domains validate --json` lists them all)")
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Hostnames
# --------------------------------------------------------------------------

_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_MAYBE_IPV4 = re.compile(r"[0-9.]+\Z")


def normalise_hostname(raw: str, *, allow_wildcard: bool = False) -> str:
    """Return the canonical (lower-case, A-label, no trailing dot) form of ``raw``.

    Raises ValueError with a short reason naming the rule that failed, so the
    same hostname written two ways compares equal and bad ones are explained.
    """
    if not isinstance(raw, str):
        raise ValueError(f"expected a string, got {type(raw).__name__}")
    name = raw.strip().lower()
    if not name:
        raise ValueError("empty hostname")
    if len(name) > _MAX_RAW_HOSTNAME_LENGTH:
        raise ValueError(f"{len(name)} characters long; at most {_MAX_HOSTNAME_LENGTH} are allowed")
    if _is_ip_address(name):
        raise ValueError("an IP address, not a hostname")
    if not name.isascii():
        name = _uts46_remap(name)
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise ValueError("empty hostname")
    labels = name.split(".")
    wildcard = labels[0] == "*"
    if wildcard:
        if not allow_wildcard:
            raise ValueError("wildcard hostnames are not allowed here")
        labels = labels[1:]
    _check_label_shapes(labels)
    labels = [_to_a_label(label) for label in labels]
    if len(labels) < 2:
        raise ValueError("needs at least two labels (like example.com)")
    if labels[-1].isdigit():
        raise ValueError(f"last label {labels[-1]!r} is all-numeric")
    result = ".".join(["*", *labels] if wildcard else labels)
    if len(result) > _MAX_HOSTNAME_LENGTH:
        raise ValueError(f"{len(result)} characters long; at most {_MAX_HOSTNAME_LENGTH} are allowed")
    return result


def _is_ip_address(name: str) -> bool:
    """True for IPv4/IPv6 literals (also bracketed or with a trailing dot)."""
    candidate = name[:-1] if name.endswith(".") else name
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    if ":" not in candidate and not _MAYBE_IPV4.match(candidate):
        return False  # cheap filter: most names never reach ipaddress
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _uts46_remap(name: str) -> str:
    """UTS-46 mapping (non-transitional) with idna's errors made readable."""
    try:
        return idna.uts46_remap(name, std3_rules=False, transitional=False)
    except Exception as exc:  # idna raises several types; never leak them
        raise ValueError(f"not a valid internationalised hostname: {exc}") from None


def _check_label_shapes(labels: list[str]) -> None:
    """Structural checks that must run before IDNA so their reasons are precise."""
    for label in labels:
        if not label:
            raise ValueError("empty label")
        if "*" in label:
            raise ValueError("'*' is only allowed as the whole leftmost label (as in *.example.com)")


def _to_a_label(label: str) -> str:
    """Convert one label to its A-label and check LDH/length rules."""
    if label.isascii():
        if _LDH_LABEL.match(label) and label[2:4] != "--":
            return label  # fast path: the vast majority of labels
        _check_ldh(label)
        if label.startswith("xn--"):
            _check_ace_label(label)
        return label
    if len(label) > _MAX_LABEL_LENGTH:  # its A-label is longer still
        raise ValueError(f"label {_show(label)} is longer than {_MAX_LABEL_LENGTH} octets")
    _check_single_script(label)
    try:
        a_label = idna.alabel(label).decode("ascii")
    except Exception as exc:
        raise ValueError(f"label {_show(label)} is not a valid internationalised label: {exc}") from None
    if len(a_label) > _MAX_LABEL_LENGTH:
        raise ValueError(
            f"label {_show(label)} is {len(a_label)} octets as an A-label ({a_label}); "
            f"at most {_MAX_LABEL_LENGTH} are allowed"
        )
    return a_label


def _check_ldh(label: str) -> None:
    """Explain why an ASCII label is not a valid LDH label (if it is not)."""
    if len(label) > _MAX_LABEL_LENGTH:
        raise ValueError(
            f"label {_show(label)} is {len(label)} octets long; at most {_MAX_LABEL_LENGTH} are allowed"
        )
    for char in label:
        if not (char.isalnum() or char == "-"):
            raise ValueError(
                f"label {_show(label)} contains {char!r}; only letters, digits and hyphens are allowed"
            )
    if label.startswith("-"):
        raise ValueError(f"label {_show(label)} starts with a hyphen")
    if label.endswith("-"):
        raise ValueError(f"label {_show(label)} ends with a hyphen")


def _check_ace_label(label: str) -> None:
    """An 'xn--' label must be valid Punycode for a valid IDNA label, and pass the script check."""
    try:
        u_label = idna.ulabel(label)
    except Exception as exc:
        raise ValueError(f"label {_show(label)} is not a valid IDNA A-label: {exc}") from None
    _check_single_script(u_label, shown_as=label)


_LOOKALIKE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


def _check_single_script(label: str, shown_as: str | None = None) -> None:
    """Refuse a label mixing Latin, Cyrillic and Greek letters: 'pаypal' with a Cyrillic 'а' reads as
    ASCII in review (a homoglyph), which UTS #39's 'highly restrictive' profile also forbids."""
    scripts = {unicodedata.name(char, "?").split(" ")[0] for char in label if char.isalpha()}
    mixed = sorted(scripts & _LOOKALIKE_SCRIPTS)
    if len(mixed) > 1:
        raise ValueError(
            f"label {_show(shown_as or label)} mixes {' and '.join(s.title() for s in mixed)} letters, "
            "which look alike (a homoglyph risk); write each label in one script"
        )


def _in_zone(hostname: str, zone: str) -> bool:
    return hostname == zone or hostname.endswith("." + zone)


# --------------------------------------------------------------------------
# YAML: events -> small node tree with line numbers
# --------------------------------------------------------------------------

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()

_TAG = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = (_TAG + t for t in ("str", "null", "bool", "int", "float"))
_ALLOWED_SCALAR_TAGS = frozenset({_STR, _NULL, _BOOL, _INT, _FLOAT})
_ALLOWED_MAPPING_TAGS = frozenset({_TAG + "map"})
_ALLOWED_SEQUENCE_TAGS = frozenset({_TAG + "seq"})


class _Scalar:
    __slots__ = ("tag", "value", "line")

    def __init__(self, tag: str, value: str, line: int) -> None:
        self.tag, self.value, self.line = tag, value, line


class _Mapping:
    __slots__ = ("pairs", "line", "end_line", "pending_key")

    def __init__(self, line: int) -> None:
        self.pairs: list[tuple[_Node, _Node]] = []
        self.line = self.end_line = line
        self.pending_key: _Node | None = None


class _Sequence:
    __slots__ = ("items", "line", "end_line")

    def __init__(self, line: int) -> None:
        self.items: list[_Node] = []
        self.line = self.end_line = line


class _Rejected:
    """Stands in for an alias or tagged node; the problem is already reported."""

    __slots__ = ("line", "end_line")

    def __init__(self, line: int, end_line: int | None = None) -> None:
        self.line = line
        self.end_line = line if end_line is None else end_line


_Node = _Scalar | _Mapping | _Sequence | _Rejected


class _SyntaxFailure(Exception):
    """Internal: the YAML could not be parsed at all."""


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

_EMPTY_FILE = "the file is empty; it needs a 'customers' list (`customers: []` for none)"
_INVALID = object()  # a value was reported as wrong; leave it out of the model


@dataclass
class _Settings:
    """Validated ssl overrides, metadata and origin of defaults or a customer."""

    ssl: dict[str, Any] = dataclasses.field(default_factory=dict)
    ssl_line: int | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    origin: str | None = None


class _Validator:
    """Walks the node tree once, collecting problems and building the model."""

    def __init__(self, path: str, rules: ValidationRules) -> None:
        self.path = path
        self.rules = rules
        self.problems: list[Problem] = []
        self.customers: list[Customer] = []
        self.hostnames: list[CustomerHostname] = []
        self.ids_seen: dict[str, tuple[int, int]] = {}
        self.hostnames_seen: dict[str, tuple[int, str]] = {}
        self.hostname_count = 0
        self.unplaced: list[int] = []  # indexes of problems that need an entry name
        self.ssl_cache: dict[tuple[tuple[str, Any], ...], SslSettings] = {}

    def report(self, line: int | None, entry: str | None, message: str) -> None:
        self.problems.append(Problem(self.path, line, entry, message))

    def report_yaml(self, line: int, message: str) -> None:
        """Report a problem found while composing; its entry is filled in later."""
        self.unplaced.append(len(self.problems))
        self.report(line, None, message)

    def place_in_entries(self, spans: list[tuple[int, int, str]]) -> None:
        """Name the customer entry of composer problems from the entries' line spans."""
        starts = [start for start, _, _ in spans]
        for index in self.unplaced:
            problem = self.problems[index]
            position = bisect.bisect_right(starts, problem.line) - 1
            if position >= 0 and problem.line <= spans[position][1]:
                self.problems[index] = dataclasses.replace(problem, entry=spans[position][2])

    # -- reading and parsing ------------------------------------------------

    def decode(self, data: str | bytes) -> str | None:
        """Return the text without a BOM, or report why it is not UTF-8."""
        if isinstance(data, str):
            text = data[1:] if data.startswith("\ufeff") else data
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                line = text.count("\n", 0, exc.start) + 1
                self.report(line, None, f"not valid UTF-8: {exc.reason} at character {exc.start}")
                return None
            return text
        data = bytes(data)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            hint = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
            self.report(
                line,
                None,
                f"not valid UTF-8{hint}: byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                "save the file as UTF-8",
            )
            return None

    def compose(self, text: str) -> _Node | None:
        """Build the node tree; raise _SyntaxFailure after reporting a YAML error."""
        loader = _Loader(text)
        try:
            return self._compose_events(loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            message = f"YAML syntax error: {exc.problem or 'invalid YAML'}"
            if exc.context:
                context_line = f" (line {exc.context_mark.line + 1})" if exc.context_mark else ""
                message += f", {exc.context}{context_line}"
            self.report(line, None, message)
        except yaml.reader.ReaderError as exc:
            # libyaml reports a byte offset into the UTF-8 encoding of the text.
            line = None
            if isinstance(exc.position, int):
                line = text.encode("utf-8")[: exc.position].count(b"\n") + 1
            code = _code_point(exc.character)
            self.report(line, None, f"invalid character{code} in the file: {exc.reason}")
        except Exception as exc:  # libyaml or memory trouble: never leak a traceback
            self.report(None, None, f"could not parse YAML: {type(exc).__name__}: {exc}")
        finally:
            loader.dispose()
        raise _SyntaxFailure

    def _compose_events(self, loader: Any) -> _Node | None:
        """Iterative (no recursion, so nesting depth is harmless) tree builder."""
        root: _Node | None = None
        stack: list[tuple[_Mapping | _Sequence, bool]] = []
        documents = 0
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            line = event.start_mark.line + 1
            if kind is yaml.ScalarEvent:
                node: _Node = self._scalar(event, line)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                is_map = kind is yaml.MappingStartEvent
                allowed = _ALLOWED_MAPPING_TAGS if is_map else _ALLOWED_SEQUENCE_TAGS
                ok = self._check_anchor_and_tag(event, line, allowed)
                stack.append((_Mapping(line) if is_map else _Sequence(line), ok))
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                container, ok = stack.pop()
                container.end_line = event.end_mark.line + 1
                node = container if ok else _Rejected(container.line, container.end_line)
            elif kind is yaml.AliasEvent:
                self.report_yaml(line, f"YAML aliases (*{event.anchor}) are not allowed; write the value out")
                node = _Rejected(line)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.report(line, None, "a second YAML document starts here; only one is allowed")
                    return root
                continue
            else:
                continue
            if not stack:
                root = node
                continue
            parent = stack[-1][0]
            if type(parent) is _Sequence:
                parent.items.append(node)
            elif parent.pending_key is None:
                parent.pending_key = node
            else:
                parent.pairs.append((parent.pending_key, node))
                parent.pending_key = None
        return root

    def _scalar(self, event: Any, line: int) -> _Node:
        if event.anchor is None and event.tag is None:  # the common case
            return _Scalar(_resolver.resolve(yaml.ScalarNode, event.value, event.implicit), event.value, line)
        if not self._check_anchor_and_tag(event, line, _ALLOWED_SCALAR_TAGS):
            return _Rejected(line)
        tag = event.tag
        implicit_tag = _resolver.resolve(yaml.ScalarNode, event.value, (True, False))
        if tag is None:
            tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        elif tag != _STR and tag != implicit_tag and not (tag == _FLOAT and implicit_tag == _INT):
            self.report_yaml(line, f"{_show(event.value)} is not a valid {_tag_name(tag)}")
            return _Rejected(line)
        return _Scalar(tag, event.value, line)

    def _check_anchor_and_tag(self, event: Any, line: int, allowed: frozenset[str]) -> bool:
        """Report anchors (kept: harmless alone) and tags (value dropped)."""
        if event.anchor is not None:
            self.report_yaml(line, f"YAML anchors (&{event.anchor}) are not allowed; write the value out")
        if event.tag is not None and event.tag not in allowed:
            self.report_yaml(line, f"YAML tag {_tag_name(event.tag)} is not allowed; use plain values")
            return False
        return True

    # -- top level --------------------------------------------------------------

    def run(self, data: str | bytes) -> CustomersFile | None:
        text = self.decode(data)
        if text is None:
            return None
        if not text.strip():
            self.report(None, None, _EMPTY_FILE)
            return None
        try:
            root = self.compose(text)
        except _SyntaxFailure:
            return None
        if root is None or (isinstance(root, _Scalar) and root.tag == _NULL):
            self.report(None, None, _EMPTY_FILE)
            return None
        if isinstance(root, _Rejected):
            return None
        if not isinstance(root, _Mapping):
            message = f"the top level must be a mapping with a 'customers' key, got {_kind(root)}"
            self.report(root.line, None, message)
            return None
        fields = self.fields(root, TOP_LEVEL_KEYS, None, "top-level key")
        defaults_node = fields.get("defaults")
        defaults = self.defaults(defaults_node)
        spans = self.customer_list(root, fields.get("customers"), defaults)
        if defaults_node is not None:
            spans.append((defaults_node.line, _end_line(defaults_node), "defaults"))
        self.place_in_entries(sorted(spans))
        return CustomersFile(
            self.path,
            tuple(self.customers),
            tuple(sorted(self.hostnames, key=lambda h: h.hostname)),
        )

    def fields(
        self, node: _Mapping, allowed: tuple[str, ...], entry: str | None, what: str
    ) -> dict[str, _Node]:
        """Map allowed key -> value node; report unknown, duplicate and odd keys."""
        found: dict[str, _Node] = {}
        first_line: dict[str, int] = {}
        for key, value in node.pairs:
            if isinstance(key, _Rejected):
                continue
            if not isinstance(key, _Scalar):
                self.report(key.line, entry, f"{what}s must be plain strings, got {_kind(key)}")
                continue
            name = key.value
            if name in first_line:
                self.report(key.line, entry, _duplicate_key(what, name, first_line[name]))
                continue
            first_line[name] = key.line
            if name not in allowed or key.tag != _STR:
                self.report(key.line, entry, _unknown_key(what, name, allowed))
                continue
            found[name] = value
        return found

    def defaults(self, node: _Node | None) -> _Settings:
        if node is None or isinstance(node, _Rejected):
            return _Settings()
        if not isinstance(node, _Mapping):
            message = f"must be a mapping with keys {_list(DEFAULTS_KEYS)}, got {_kind(node)}"
            self.report(node.line, "defaults", message)
            return _Settings()
        settings = self.settings(self.fields(node, DEFAULTS_KEYS, "defaults", "key"), "defaults")
        if settings.ssl.get("wildcard") and settings.ssl.get("method", "http") != "txt":
            message = _wildcard_needs_txt("ssl.wildcard: true", settings.ssl)
            self.report(settings.ssl_line, "defaults", message)
        return settings

    def settings(self, fields: dict[str, _Node], entry: str) -> _Settings:
        """ssl, metadata and origin: shared by defaults and customers."""
        result = _Settings()
        if "ssl" in fields:
            result.ssl = self.ssl(fields["ssl"], entry)
            result.ssl_line = fields["ssl"].line
        if "metadata" in fields:
            result.metadata = self.metadata(fields["metadata"], entry)
        if "origin" in fields:
            result.origin = self.origin(fields["origin"], entry)
        return result

    # -- customers ----------------------------------------------------------

    def customer_list(
        self, root: _Mapping, node: _Node | None, defaults: _Settings
    ) -> list[tuple[int, int, str]]:
        """Validate every entry; return each entry's (first line, last line, name)."""
        if node is None:
            self.report(root.line, None, "missing required key 'customers' (write `customers: []` for none)")
            return []
        if isinstance(node, _Rejected):
            return []
        if not isinstance(node, _Sequence):
            hint = " (write `customers: []` for none)" if _is_null(node) else ""
            self.report(node.line, None, f"'customers' must be a list, got {_kind(node)}{hint}")
            return []
        spans = []
        for number, item in enumerate(node.items, start=1):
            entry = self.customer(number, item, defaults)
            spans.append((item.line, _end_line(item), entry))
        if self.hostname_count > self.rules.max_hostnames:
            self.report(
                node.line,
                None,
                f"{self.hostname_count} hostnames in total is more than the cap of "
                f"{self.rules.max_hostnames}; raise the stack setting {MAX_HOSTNAMES_SETTING} "
                "if this is intended",
            )
        return spans

    def customer(self, number: int, node: _Node, defaults: _Settings) -> str:
        """Validate one entry; return the entry's name for messages."""
        if isinstance(node, _Rejected):
            return f"customer entry {number}"
        if not isinstance(node, _Mapping):
            self.report(
                node.line,
                f"customer entry {number}",
                f"must be a mapping with 'id' and 'hostnames', got {_kind(node)}",
            )
            return f"customer entry {number}"
        id_node = next((v for k, v in node.pairs if isinstance(k, _Scalar) and k.value == "id"), None)
        customer_id, id_problem = _check_id(id_node)
        entry = f"customer {customer_id!r} (entry {number})" if customer_id else f"customer entry {number}"
        fields = self.fields(node, CUSTOMER_KEYS, entry, "key")
        if id_node is None:
            self.report(node.line, entry, "missing required key 'id' (a stable slug such as 'acme')")
        elif id_problem:
            self.report(id_node.line, entry, id_problem)
        elif customer_id is None:
            pass  # the id node itself was refused (a tag, an alias) and already reported
        elif customer_id in self.ids_seen:
            other_number, other_line = self.ids_seen[customer_id]
            self.report(
                id_node.line,
                entry,
                f"duplicate id {customer_id!r}: entry {other_number} at line {other_line} already uses it "
                "(ids must be unique)",
            )
        else:
            self.ids_seen[customer_id] = (number, id_node.line)
        own = self.settings(fields, entry)
        ssl = self.merged_ssl(defaults, own, entry)
        metadata = tuple(sorted({**defaults.metadata, **own.metadata}.items()))
        origin = own.origin if "origin" in fields else defaults.origin
        names = self.customer_hostnames(fields.get("hostnames"), node, entry, ssl)
        if customer_id:
            self.customers.append(Customer(customer_id, tuple(n for n, _ in names), node.line))
            self.hostnames.extend(
                CustomerHostname(name, customer_id, ssl, metadata, origin, line) for name, line in names
            )
        return entry

    def merged_ssl(self, defaults: _Settings, own: _Settings, entry: str) -> SslSettings:
        """Defaults overridden key by key; identical settings share one instance."""
        merged = {**defaults.ssl, **own.ssl}
        if (
            merged.get("wildcard")
            and merged.get("method", "http") != "txt"
            and ("wildcard" in own.ssl or "method" in own.ssl)  # else reported once at defaults
        ):
            self.report(own.ssl_line, entry, _wildcard_needs_txt("ssl.wildcard: true", merged))
        cache_key = tuple(sorted(merged.items()))
        settings = self.ssl_cache.get(cache_key)
        if settings is None:
            settings = self.ssl_cache[cache_key] = SslSettings(**merged)
        return settings

    def customer_hostnames(
        self, node: _Node | None, customer: _Mapping, entry: str, ssl: SslSettings
    ) -> list[tuple[str, int]]:
        """Validate one customer's hostnames; return (normalised, line) pairs."""
        if node is None:
            message = "missing required key 'hostnames' (a list of one or more hostnames)"
            self.report(customer.line, entry, message)
            return []
        if isinstance(node, _Rejected):
            return []
        if not isinstance(node, _Sequence):
            hint = ""
            if _is_str(node) and len(node.value) <= 100:
                hint = f"; write it as a list: `hostnames: [{node.value}]`"
            self.report(node.line, entry, f"'hostnames' must be a list, got {_kind(node)}{hint}")
            return []
        if not node.items:
            self.report(node.line, entry, "'hostnames' is empty; list at least one hostname")
            return []
        names = []
        for index, item in enumerate(node.items):
            self.hostname_count += 1
            name = self.hostname(item, f"hostnames[{index}]", entry, ssl)
            if name is not None:
                names.append((name, item.line))
        return names

    def hostname(self, node: _Node, where: str, entry: str, ssl: SslSettings) -> str | None:
        raw = self.string(node, where, entry)
        if raw is None:
            return None
        label = f"{where} {_show(raw)}"
        try:
            name = normalise_hostname(raw, allow_wildcard=True)
        except ValueError as exc:
            self.report(node.line, entry, f"{label}: {exc}")
            return None
        ok = True
        if _in_zone(name, self.rules.zone):
            self.report(node.line, entry, f"{label}: {_zone_relation(name, self.rules.zone)}; "
                        "customer hostnames must be outside the SaaS zone")
            ok = False
        if name.startswith("*."):
            if not self.rules.allow_wildcards:
                self.report(
                    node.line,
                    entry,
                    f"{label}: wildcard hostnames are an Enterprise feature and are disabled; "
                    f"enable them with the stack setting {ALLOW_WILDCARDS_SETTING}",
                )
                ok = False
            if ssl.method != "txt":
                reason = _wildcard_needs_txt("a wildcard hostname", {"method": ssl.method})
                self.report(node.line, entry, f"{label}: {reason}")
                ok = False
        if name in self.hostnames_seen:
            other_line, other_entry = self.hostnames_seen[name]
            self.report(
                node.line,
                entry,
                f"{label}: hostname {name!r} is already declared at line {other_line} by {other_entry}",
            )
            return None
        self.hostnames_seen[name] = (node.line, entry)
        return name if ok else None

    # -- settings -------------------------------------------------------------

    def ssl(self, node: _Node, entry: str) -> dict[str, Any]:
        """Return the valid ssl overrides given (invalid ones are reported)."""
        if isinstance(node, _Rejected):
            return {}
        if not isinstance(node, _Mapping):
            self.report(node.line, entry, f"'ssl' must be a mapping of {_list(SSL_KEYS)}, got {_kind(node)}")
            return {}
        overrides: dict[str, Any] = {}
        for name, value in self.fields(node, SSL_KEYS, entry, "ssl key").items():
            parsed = self.ssl_value(name, value, entry)
            if parsed is not _INVALID:
                overrides[name] = parsed
        return overrides

    def ssl_value(self, name: str, node: _Node, entry: str) -> Any:
        where = f"ssl.{name}"
        if name == "min_tls_version":
            return self.min_tls_version(node, entry)
        if name == "wildcard":
            return self.boolean(node, where, entry)
        if name == "ciphers":
            return self.ciphers(node, entry)
        if name == "method" and isinstance(node, _Scalar) and node.tag == _STR and node.value in RETIRED_SSL_METHODS:
            self.report(node.line, entry, f"{where}: {node.value!r} validation is retired: Cloudflare dropped e-mail "
                                          "and CNAME DCV with DigiCert; use http (the default) or txt")
            return _INVALID
        choices = {
            "method": ALLOWED_SSL_METHODS,
            "type": ALLOWED_SSL_TYPES,
            "certificate_authority": ALLOWED_CERTIFICATE_AUTHORITIES,
            "bundle_method": ALLOWED_BUNDLE_METHODS,
        }.get(name, ALLOWED_ON_OFF)
        return self.choice(node, where, entry, choices, nullable=name == "certificate_authority")

    def choice(
        self, node: _Node, where: str, entry: str, allowed: tuple[str, ...], *, nullable: bool = False
    ) -> Any:
        if isinstance(node, _Rejected):
            return _INVALID
        if nullable and _is_null(node):
            return None
        if allowed is ALLOWED_ON_OFF and isinstance(node, _Scalar) and node.tag == _BOOL:
            if node.value.lower() in ALLOWED_ON_OFF:  # YAML 1.1 reads bare on/off as booleans
                return node.value.lower()
            self.report(node.line, entry, f'{where}: expected "on" or "off", got a boolean ({node.value})')
            return _INVALID
        value = self.string(node, where, entry)
        if value is None:
            return _INVALID
        if value not in allowed:
            extra = " or null (let Cloudflare choose)" if nullable else ""
            message = f"{where}: {_show(value)} is not allowed; use one of {_list(allowed)}{extra}"
            self.report(node.line, entry, message)
            return _INVALID
        return value

    def min_tls_version(self, node: _Node, entry: str) -> Any:
        where = "ssl.min_tls_version"
        if isinstance(node, _Scalar) and node.tag in (_FLOAT, _INT):
            raw = node.value
            if raw in ALLOWED_MIN_TLS_VERSIONS:
                reason = f'quote it: "{raw}"'
            elif raw in REJECTED_MIN_TLS_VERSIONS:
                reason = _below_tls_floor(raw)
            else:
                reason = f"use one of {_list(ALLOWED_MIN_TLS_VERSIONS)}, quoted"
            self.report(node.line, entry, f"{where}: {raw} is a YAML number, not a string; {reason}")
            return _INVALID
        value = self.string(node, where, entry)
        if value is None:
            return _INVALID
        if value in REJECTED_MIN_TLS_VERSIONS:
            self.report(node.line, entry, f"{where}: {_show(value)}: {_below_tls_floor(value)}")
            return _INVALID
        if value not in ALLOWED_MIN_TLS_VERSIONS:
            message = f"{where}: {_show(value)} is not allowed; use one of {_list(ALLOWED_MIN_TLS_VERSIONS)}"
            self.report(node.line, entry, message)
            return _INVALID
        return value

    def boolean(self, node: _Node, where: str, entry: str) -> Any:
        if isinstance(node, _Rejected):
            return _INVALID
        if isinstance(node, _Scalar) and node.tag == _BOOL:
            return yaml.constructor.SafeConstructor.bool_values[node.value.lower()]
        self.report(node.line, entry, f"{where}: expected true or false, got {_kind(node)}")
        return _INVALID

    def ciphers(self, node: _Node, entry: str) -> Any:
        if isinstance(node, _Rejected):
            return _INVALID
        if _is_null(node):
            return None
        if not isinstance(node, _Sequence):
            self.report(node.line, entry, f"ssl.ciphers: expected a list of cipher names, got {_kind(node)}")
            return _INVALID
        if not node.items:
            message = "ssl.ciphers: the list is empty; leave the key out to use Cloudflare's defaults"
            self.report(node.line, entry, message)
            return _INVALID
        names = [
            self.string(item, f"ssl.ciphers[{index}]", entry, non_empty=True)
            for index, item in enumerate(node.items)
        ]
        return _INVALID if None in names else tuple(names)

    def metadata(self, node: _Node, entry: str) -> dict[str, str]:
        if isinstance(node, _Rejected):
            return {}
        if not isinstance(node, _Mapping):
            message = f"'metadata' must be a mapping of strings to strings, got {_kind(node)}"
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

    def origin(self, node: _Node, entry: str) -> str | None:
        raw = self.string(node, "origin", entry)
        if raw is None:
            return None
        try:
            name = normalise_hostname(raw)
        except ValueError as exc:
            self.report(node.line, entry, f"origin {_show(raw)}: {exc}")
            return None
        # Cloudflare sends the hostname's traffic to a proxied A/AAAA/CNAME record of the SaaS zone
        # (custom origin servers: Enterprise). The apex is the SaaS's own site, never a custom origin.
        if name == self.rules.zone:
            self.report(node.line, entry, f"origin {_show(raw)}: is the SaaS zone's apex; a custom origin must be a "
                                          f"proxied record inside {self.rules.zone!r}, such as eu.{self.rules.zone}")
            return None
        if not _in_zone(name, self.rules.zone):
            self.report(
                node.line,
                entry,
                f"origin {_show(raw)}: must be a proxied record inside the SaaS zone {self.rules.zone!r}",
            )
            return None
        return name

    def string(self, node: _Node, where: str, entry: str | None, *, non_empty: bool = False) -> str | None:
        """Return the node's string, or report what type it was and how to quote it."""
        if isinstance(node, _Rejected):
            return None
        if isinstance(node, _Scalar) and node.tag == _STR:
            if non_empty and not node.value:
                self.report(node.line, entry, f"{where}: must not be empty")
                return None
            return node.value
        self.report(node.line, entry, _expected_string(where, node))
        return None


# --------------------------------------------------------------------------
# Small helpers (message wording lives here)
# --------------------------------------------------------------------------


def _check_id(node: _Node | None) -> tuple[str | None, str | None]:
    """Return (valid id, None) or (None, reason); ids are DNS labels."""
    if node is None or isinstance(node, _Rejected):
        return None, None
    if not _is_str(node):
        return None, _expected_string("id", node)
    value = node.value
    if _LDH_LABEL.match(value):
        return value, None
    bad = next((c for c in value if c not in _ID_CHARS), None)
    if not value:
        reason = "must not be empty"
    elif len(value) > _MAX_LABEL_LENGTH:
        reason = f"{len(value)} characters long; a DNS label has at most {_MAX_LABEL_LENGTH}"
    elif value.isascii() and _LDH_LABEL.match(value.lower()):
        reason = f"must be lower case ({value.lower()!r})"
    elif bad is not None:
        reason = f"contains {bad!r}; only lowercase letters a-z, digits and hyphens are allowed"
    elif value.startswith("-"):
        reason = "must not start with a hyphen"
    else:
        reason = "must not end with a hyphen"
    return None, f"id {_show(value)}: {reason} (ids are DNS labels)"


_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _expected_string(where: str, node: _Node) -> str:
    """'expected a string, got a boolean (no)' plus how to quote it."""
    message = f"{where}: expected a string, got {_kind(node)}"
    if isinstance(node, _Scalar) and node.value and len(node.value) <= 100:
        message += f"; quote it if you mean the text: {json.dumps(node.value, ensure_ascii=False)}"
    return message


def _show(value: str, limit: int = 80) -> str:
    """Quote a user value for a message, shortened so hostile input stays readable."""
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return repr(value)


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def _key_path(prefix: str, key: str) -> str:
    """'metadata.tier', or a quoted form when the key is odd or very long."""
    simple = len(key) <= 40 and key.replace("-", "").replace("_", "").isalnum()
    return f"{prefix}.{key}" if simple else f"{prefix}[{_show(key)}]"


def _code_point(char: Any) -> str:
    if isinstance(char, str) and len(char) == 1:
        char = ord(char)
    return f" U+{char:04X}" if isinstance(char, int) else ""


def _end_line(node: _Node) -> int:
    return node.line if isinstance(node, _Scalar) else node.end_line


def _is_null(node: _Node) -> bool:
    return isinstance(node, _Scalar) and node.tag == _NULL


def _is_str(node: _Node) -> bool:
    return isinstance(node, _Scalar) and node.tag == _STR


_KIND_NAMES = {
    _STR: "a string",
    _BOOL: "a boolean",
    _INT: "an integer",
    _FLOAT: "a number",
    _TAG + "timestamp": "a date",
}


def _kind(node: _Node) -> str:
    """Describe a node's YAML type for 'expected X, got Y' messages."""
    if isinstance(node, _Mapping):
        return "a mapping"
    if isinstance(node, _Sequence):
        return "a list"
    if isinstance(node, _Rejected):
        return "a rejected value"
    if node.tag == _NULL:
        return "nothing (null)" if node.value in ("", "~", "null", "Null", "NULL") else f"null ({node.value})"
    name = _KIND_NAMES.get(node.tag, f"a YAML {_tag_name(node.tag)} value")
    return f"{name} ({_show(node.value, 40)[1:-1]})" if node.tag != _STR else f"{name} {_show(node.value, 40)}"


def _unknown_key(what: str, name: str, allowed: tuple[str, ...]) -> str:
    message = f"unknown {what} {_show(name)}"
    if len(name) <= 100:
        close = difflib.get_close_matches(name.lower(), allowed, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return f"{message} (allowed: {', '.join(allowed)})"


def _duplicate_key(what: str, name: str, first_line: int) -> str:
    return (
        f"duplicate {what} {_show(name)} (first at line {first_line}); "
        "YAML would silently keep only the last one"
    )


def _zone_relation(name: str, zone: str) -> str:
    return f"is the SaaS zone {zone!r} itself" if name == zone else f"is inside the SaaS zone {zone!r}"


def _wildcard_needs_txt(subject: str, ssl: dict[str, Any]) -> str:
    method = ssl.get("method", "http")
    return (
        f"{subject} requires ssl.method 'txt' (HTTP validation cannot validate wildcard "
        f"certificates), but the method is {method!r}"
    )


def _below_tls_floor(version: str) -> str:
    return f"TLS {version} is below the project's minimum of TLS 1.2; use \"1.2\" or \"1.3\""


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def parse_customers(
    text: str | bytes, rules: ValidationRules, *, path: str = "customers.yaml"
) -> CustomersFile:
    """Validate customers-file content; raise CustomersFileError listing every problem."""
    path = str(path)
    validator = _Validator(path, rules)
    result = validator.run(text)
    if validator.problems or result is None:
        raise CustomersFileError(path, validator.problems)
    return result


def load_customers(path: str | os.PathLike[str], rules: ValidationRules) -> CustomersFile:
    """Read ``path`` as bytes (so encoding problems are ours to report) and parse it."""
    shown = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise CustomersFileError(shown, [Problem(shown, None, None, "file not found")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problem = Problem(shown, None, None, f"cannot read the file: {reason}")
        raise CustomersFileError(shown, [problem]) from None
    return parse_customers(data, rules, path=shown)
