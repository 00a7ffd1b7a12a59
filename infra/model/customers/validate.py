"""Validation of customers.yaml: every problem at once, each with file, line, entry and what is wrong.

Walks the node tree of `yaml_tree.py` once, reporting problems and building the model of
`model.py`; a file with any problem yields no model at all, so nothing is declared from it. This
module checks the file's structure (top level, defaults, entries, ids, hostnames, and how an entry's
settings meet the defaults); the values inside an entry (ssl, metadata, origin) are `values.py`'s.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import os
from typing import Any

from infra.model.customers.model import (
    ALLOW_WILDCARDS_SETTING,
    CUSTOMER_KEYS,
    DEFAULTS_KEYS,
    MAX_HOSTNAMES_SETTING,
    TOP_LEVEL_KEYS,
    Customer,
    CustomerHostname,
    CustomersFile,
    CustomersFileError,
    EntryOverrides,
    HostnameSsl,
    Problem,
    ValidationRules,
)
from infra.model.customers.ssl_fields import SSL_FIELD
from infra.model.customers.values import ValueChecks, expected_string, listed
from infra.model.customers.yaml_tree import (
    NULL,
    MappingNode,
    Node,
    Rejected,
    Scalar,
    SequenceNode,
    SyntaxFailure,
    TreeBuilder,
    end_line,
    is_null,
    is_str,
    kind,
)
from infra.model.hostnames import (
    LDH_LABEL,
    MAX_LABEL_LENGTH,
    HostnameError,
    count_word,
    in_zone,
    label_from,
    normalise_hostname,
)
from infra.model.messages import code, listed_with_and, show

_EMPTY_FILE = "the file is empty; it needs a 'customers' list (`customers: []` for none)"
_DEFAULT_METHOD = SSL_FIELD["method"].default


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
        self.ids_in_file: dict[str, int] = {}
        self.unplaced: list[int] = []  # indexes of problems that need an entry name
        self.ssl_cache: dict[tuple[tuple[str, Any], ...], HostnameSsl] = {}
        self.tree = TreeBuilder(lambda line, message: self.report(line, None, message), self.report_in_entry)
        self.values = ValueChecks(self.report, rules.zone)

    def report(self, line: int | None, entry: str | None, message: str) -> None:
        self.problems.append(Problem(self.path, line, entry, message))

    def report_in_entry(self, line: int, message: str) -> None:
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

    # -- top level --------------------------------------------------------------

    def run(self, data: str | bytes) -> CustomersFile | None:
        text = self.tree.decode(data)
        if text is None:
            return None
        if not text.strip():
            self.report(None, None, _EMPTY_FILE)
            return None
        try:
            root = self.tree.compose(text)
        except SyntaxFailure:
            return None
        if root is None or (isinstance(root, Scalar) and root.tag == NULL):
            self.report(None, None, _EMPTY_FILE)
            return None
        if isinstance(root, Rejected):
            return None
        if not isinstance(root, MappingNode):
            message = f"the top level must be a mapping with a 'customers' key, got {kind(root)}"
            self.report(root.line, None, message)
            return None
        fields = self.values.fields(root, TOP_LEVEL_KEYS, None, "top-level key")
        defaults_node = fields.get("defaults")
        defaults = self.defaults(defaults_node)
        spans = self.customer_list(root, fields.get("customers"), defaults)
        if defaults_node is not None:
            spans.append((defaults_node.line, end_line(defaults_node), "defaults"))
        self.place_in_entries(sorted(spans))
        return CustomersFile(
            self.path,
            tuple(self.customers),
            tuple(sorted(self.hostnames, key=lambda h: h.hostname)),
        )

    def defaults(self, node: Node | None) -> EntryOverrides:
        if node is None or isinstance(node, Rejected):
            return EntryOverrides()
        if not isinstance(node, MappingNode):
            message = f"must be a mapping with keys {listed(DEFAULTS_KEYS)}, got {kind(node)}"
            self.report(node.line, "defaults", message)
            return EntryOverrides()
        fields = self.values.fields(node, DEFAULTS_KEYS, "defaults", "key")
        defaults, ssl_line = self.values.overrides(fields, "defaults")
        ssl = defaults.ssl_dict
        if ssl.get("wildcard") and ssl.get("method", _DEFAULT_METHOD) != "txt":
            self.report(ssl_line, "defaults", _wildcard_needs_txt("ssl.wildcard: true", ssl))
        return defaults

    # -- customers ----------------------------------------------------------

    def customer_list(
        self, root: MappingNode, node: Node | None, defaults: EntryOverrides
    ) -> list[tuple[int, int, str]]:
        """Validate every entry; return each entry's (first line, last line, name)."""
        if node is None:
            self.report(root.line, None, "missing required key 'customers' (write `customers: []` for none)")
            return []
        if isinstance(node, Rejected):
            return []
        if not isinstance(node, SequenceNode):
            hint = " (write `customers: []` for none)" if is_null(node) else ""
            self.report(node.line, None, f"'customers' must be a list, got {kind(node)}{hint}")
            return []
        # Every id the file uses, by entry number, so a suggested id is not one already taken.
        self.ids_in_file = {
            id_node.value: number
            for number, item in reversed(list(enumerate(node.items, start=1)))
            if isinstance(item, MappingNode) and (id_node := _id_node(item)) is not None and is_str(id_node)
        }
        spans = []
        for number, item in enumerate(node.items, start=1):
            entry = self.customer(number, item, defaults)
            spans.append((item.line, end_line(item), entry))
        if self.hostname_count > self.rules.max_hostnames:
            self.report(
                node.line,
                None,
                f"{self.hostname_count} hostnames in total is more than the cap of "
                f"{self.rules.max_hostnames}; raise the stack setting {MAX_HOSTNAMES_SETTING} "
                "if this is intended",
            )
        return spans

    def customer(self, number: int, node: Node, defaults: EntryOverrides) -> str:
        """Validate one entry; return the entry's name for messages."""
        if isinstance(node, Rejected):
            return f"customer entry {number}"
        if not isinstance(node, MappingNode):
            self.report(
                node.line,
                f"customer entry {number}",
                f"must be a mapping with 'id' and 'hostnames', got {kind(node)}",
            )
            return f"customer entry {number}"
        id_node = _id_node(node)
        customer_id, id_problem = _check_id(id_node, self.ids_in_file)
        entry = f"customer {customer_id!r} (entry {number})" if customer_id else f"customer entry {number}"
        fields = self.values.fields(node, CUSTOMER_KEYS, entry, "key")
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
        own, ssl_line = self.values.overrides(fields, entry)
        ssl = self.merged_ssl(defaults, own, ssl_line, entry)
        metadata = tuple(sorted({**defaults.metadata_dict, **own.metadata_dict}.items()))
        origin = own.origin if "origin" in fields else defaults.origin
        names = self.customer_hostnames(fields.get("hostnames"), node, entry, ssl)
        if customer_id:
            self.customers.append(Customer(customer_id, tuple(n for n, _ in names), node.line))
            self.hostnames.extend(
                CustomerHostname(name, customer_id, ssl, metadata, origin, line) for name, line in names
            )
        return entry

    def merged_ssl(
        self, defaults: EntryOverrides, own: EntryOverrides, ssl_line: int | None, entry: str
    ) -> HostnameSsl:
        """Defaults overridden key by key; identical settings share one instance."""
        own_ssl = own.ssl_dict
        merged = {**defaults.ssl_dict, **own_ssl}
        if (
            merged.get("wildcard")
            and merged.get("method", _DEFAULT_METHOD) != "txt"
            and ("wildcard" in own_ssl or "method" in own_ssl)  # else reported once at defaults
        ):
            self.report(ssl_line, entry, _wildcard_needs_txt("ssl.wildcard: true", merged))
        cache_key = tuple(sorted(merged.items()))
        settings = self.ssl_cache.get(cache_key)
        if settings is None:
            settings = self.ssl_cache[cache_key] = HostnameSsl(**merged)
        return settings

    def customer_hostnames(
        self, node: Node | None, customer: MappingNode, entry: str, ssl: HostnameSsl
    ) -> list[tuple[str, int]]:
        """Validate one customer's hostnames; return (normalised, line) pairs."""
        if node is None:
            message = "missing required key 'hostnames' (a list of one or more hostnames)"
            self.report(customer.line, entry, message)
            return []
        if isinstance(node, Rejected):
            return []
        if not isinstance(node, SequenceNode):
            hint = _as_a_list(node.value) if is_str(node) and len(node.value) <= 100 else ""
            self.report(node.line, entry, f"'hostnames' must be a list, got {kind(node)}{hint}")
            return []
        if not node.items:
            self.report(node.line, entry, "'hostnames' is empty; list at least one hostname")
            return []
        names = []
        for index, item in enumerate(node.items):
            self.hostname_count += 1
            name = self.hostname(item, f"hostnames[{index}]", entry, ssl, node.flow)
            if name is not None:
                names.append((name, item.line))
        return names

    def hostname(self, node: Node, where: str, entry: str, ssl: HostnameSsl, in_flow: bool) -> str | None:
        raw = self.values.string(node, where, entry)
        if raw is None:
            return None
        label = f"{where} {show(raw)}"
        try:
            name = normalise_hostname(raw, allow_wildcard=True)
        except HostnameError as exc:
            reason = _several_hostnames(exc, node, in_flow) if exc.pieces else str(exc)
            self.report(node.line, entry, f"{label}: {reason}")
            return None
        except ValueError as exc:
            self.report(node.line, entry, f"{label}: {exc}")
            return None
        ok = True
        if in_zone(name, self.rules.zone):
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

# -- small helpers (message wording lives here) -----------------------------


def _id_node(entry: MappingNode) -> Node | None:
    return next((v for k, v in entry.pairs if isinstance(k, Scalar) and k.value == "id"), None)


def _check_id(node: Node | None, ids_in_file: dict[str, int]) -> tuple[str | None, str | None]:
    """Return (valid id, None) or (None, reason); ids are DNS labels. The reason names every rule the
    id breaks and suggests an id that keeps them, unless the file already uses it."""
    if node is None or isinstance(node, Rejected):
        return None, None
    if not is_str(node):
        return None, expected_string("id", node)
    value = node.value
    if LDH_LABEL.match(value):
        return value, None
    if not value:
        return None, f"id '': is empty; {_ID_RULE}, such as `acme`"
    has = []
    capitals = sum(1 for c in value if "A" <= c <= "Z")
    if capitals:
        has.append("capital letters" if capitals > 1 else "a capital letter")
    spaces = sum(1 for c in value if c.isspace())
    if spaces:
        has.append("a space" if spaces == 1 else "spaces")
    if "_" in value:
        has.append("an underscore" if value.count("_") == 1 else "underscores")
    others = sorted({c for c in value if c not in _ID_CHARS and not ("A" <= c <= "Z" or c.isspace() or c == "_")},
                    key=value.index)
    has.extend(show(c) for c in others[:3])
    if len(others) > 3:
        has.append("other characters")
    broken = [f"has {listed_with_and(has)}"] if has else []
    if value.startswith("-"):
        broken.append("starts with a hyphen")
    if value.endswith("-"):
        broken.append("ends with a hyphen")
    if len(value) > MAX_LABEL_LENGTH:
        broken.append(f"is {len(value)} characters long (at most {MAX_LABEL_LENGTH})")
    suggestion = _suggest_id(value, ids_in_file)
    return None, f"id {show(value)}: {', '.join(broken)}; {_ID_RULE}{suggestion}"


_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_ID_RULE = "ids are lowercase letters, digits and hyphens"


def _suggest_id(value: str, ids_in_file: dict[str, int]) -> str:
    """': try `initrode-inc`' for 'Initrode Inc' (never an id the file uses), or an example of an id
    when no letter or digit a-z is left to make one of."""
    base = label_from(value)
    if not base:
        return ", such as `acme`"
    if base not in ids_in_file:
        return f": try `{base}`"
    for number in itertools.count(2):
        suffix = f"-{number}"
        candidate = base[: MAX_LABEL_LENGTH - len(suffix)].rstrip("-") + suffix
        if candidate not in ids_in_file:
            return (f": try `{candidate}` (`{base}` is the id of entry {ids_in_file[base]}; if this is the same "
                    "customer, add the hostnames there)")
    raise AssertionError("unreachable")


def _as_a_list(value: str) -> str:
    """'; write it as a list: `hostnames: [a.example.com, b.example.com]`' for `hostnames: a.example.com
    b.example.com`, each hostname as it should be written, then what is wrong with the ones that are not."""
    written, problems = [value], []
    try:
        normalise_hostname(value, allow_wildcard=True)
    except HostnameError as exc:
        if exc.pieces:
            written, problems = [_as_written(piece) for piece in exc.pieces], list(exc.problems)
        else:
            written, problems = [exc.suggestion or value], [f"{show(value)}: {exc}"]
    except ValueError as exc:
        problems = [f"{show(value)}: {exc}"]
    listed_names = ", ".join(written)
    return "".join([f"; write it as a list: {code(f'hostnames: [{listed_names}]', 120)}"] +
                   [f"; {problem}" for problem in problems])


def _as_written(piece: str) -> str:
    try:
        normalise_hostname(piece, allow_wildcard=True)
    except HostnameError as exc:
        return exc.suggestion or piece
    except ValueError:
        pass
    return piece


def _several_hostnames(error: HostnameError, node: Node, in_flow: bool) -> str:
    """Several hostnames in one list item: how to split them, by how the list is written."""
    count = count_word(len(error.pieces))
    if in_flow:
        advice = f"separate them with commas: {code(', '.join(error.pieces), 120)}"
    elif end_line(node) > node.line:
        more = (f"line {end_line(node)} is" if end_line(node) == node.line + 1 else
                f"lines {node.line + 1}-{end_line(node)} are")
        advice = (f"{more} indented more than line {node.line}, so YAML read them as one; put each on its own "
                  f"line starting with `- ` at the same indentation as line {node.line}")
    else:
        advice = f"put each on its own line starting with `- `, at the same indentation as line {node.line}"
    return "; ".join([f"looks like {count} hostnames in one value: {advice}", *error.problems])


def _zone_relation(name: str, zone: str) -> str:
    return f"is the SaaS zone {zone!r} itself" if name == zone else f"is inside the SaaS zone {zone!r}"


def _wildcard_needs_txt(subject: str, ssl: dict[str, Any]) -> str:
    method = ssl.get("method", _DEFAULT_METHOD)
    return (
        f"{subject} requires ssl.method 'txt' (HTTP validation cannot validate wildcard "
        f"certificates), but the method is {method!r}"
    )


# -- entry points ----------------------------------------------------------


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
