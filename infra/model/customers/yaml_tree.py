"""customers.yaml as a small tree of nodes that keep their line numbers, built from libyaml's events.

Not `yaml.safe_load`/`yaml.compose`: every value keeps its line, duplicate keys stay visible, and
anchors, aliases and tags are refused before they can expand or construct anything. The builder
only reports what it cannot read; what the tree means is `validate.py`'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from infra.model.customers.yaml_errors import explain
from infra.model.messages import show

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()

TAG = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT = (TAG + t for t in ("str", "null", "bool", "int", "float"))
_ALLOWED_SCALAR_TAGS = frozenset({STR, NULL, BOOL, INT, FLOAT})
_ALLOWED_MAPPING_TAGS = frozenset({TAG + "map"})
_ALLOWED_SEQUENCE_TAGS = frozenset({TAG + "seq"})


class Scalar:
    __slots__ = ("tag", "value", "line", "end_line")

    def __init__(self, tag: str, value: str, line: int, end_line: int | None = None) -> None:
        self.tag, self.value, self.line = tag, value, line
        self.end_line = line if end_line is None else end_line  # a value folded over several lines ends later


class MappingNode:
    __slots__ = ("pairs", "line", "end_line", "pending_key")

    def __init__(self, line: int) -> None:
        self.pairs: list[tuple[Node, Node]] = []
        self.line = self.end_line = line
        self.pending_key: Node | None = None


class SequenceNode:
    __slots__ = ("items", "line", "end_line", "flow")

    def __init__(self, line: int, flow: bool = False) -> None:
        self.items: list[Node] = []
        self.line = self.end_line = line
        self.flow = flow  # written `[a, b]`, not as `- ` lines


class Rejected:
    """Stands in for an alias or tagged node; the problem is already reported."""

    __slots__ = ("line", "end_line")

    def __init__(self, line: int, end_line: int | None = None) -> None:
        self.line = line
        self.end_line = line if end_line is None else end_line


Node = Scalar | MappingNode | SequenceNode | Rejected


class SyntaxFailure(Exception):
    """Internal: the YAML could not be parsed at all."""


def tag_name(tag: str) -> str:
    return "!!" + tag[len(TAG):] if tag.startswith(TAG) else tag


def code_point(char: Any) -> str:
    if isinstance(char, str) and len(char) == 1:
        char = ord(char)
    return f" U+{char:04X}" if isinstance(char, int) else ""


def end_line(node: Node) -> int:
    return node.end_line


def is_null(node: Node) -> bool:
    return isinstance(node, Scalar) and node.tag == NULL


def is_str(node: Node) -> bool:
    return isinstance(node, Scalar) and node.tag == STR


_KIND_NAMES = {
    STR: "a string",
    BOOL: "a boolean",
    INT: "an integer",
    FLOAT: "a number",
    TAG + "timestamp": "a date",
}


def kind(node: Node) -> str:
    """Describe a node's YAML type for 'expected X, got Y' messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, Rejected):
        return "a rejected value"
    if node.tag == NULL:
        return "nothing (null)" if node.value in ("", "~", "null", "Null", "NULL") else f"null ({node.value})"
    name = _KIND_NAMES.get(node.tag, f"a YAML {tag_name(node.tag)} value")
    return f"{name} ({show(node.value, 40)[1:-1]})" if node.tag != STR else f"{name} {show(node.value, 40)}"


def _libyaml_words(exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """The parser's own message, for the errors `yaml_errors.explain` does not recognise."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    message = f"YAML syntax error: {exc.problem or 'invalid YAML'}"
    if exc.context:
        context_line = f" (line {exc.context_mark.line + 1})" if exc.context_mark else ""
        message += f", {exc.context}{context_line}"
    return line, message


class TreeBuilder:
    """Bytes or text to a node tree; problems go to `report` (the file as a whole) or to
    `report_in_entry` (a spot inside a customer entry, which the validator names later)."""

    def __init__(self, report: Callable[[int | None, str], None],
                 report_in_entry: Callable[[int, str], None]) -> None:
        self.report = report
        self.report_in_entry = report_in_entry

    def decode(self, data: str | bytes) -> str | None:
        """Return the text without a BOM, or report why it is not UTF-8."""
        if isinstance(data, str):
            text = data[1:] if data.startswith("\ufeff") else data
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                line = text.count("\n", 0, exc.start) + 1
                self.report(line, f"not valid UTF-8: {exc.reason} at character {exc.start}")
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
            self.report(line, f"not valid UTF-8{hint}: byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                "save the file as UTF-8",
            )
            return None

    def compose(self, text: str) -> Node | None:
        """Build the node tree; raise SyntaxFailure after reporting a YAML error."""
        loader = _Loader(text)
        try:
            return self._compose_events(loader)
        except yaml.MarkedYAMLError as exc:
            self.report(*(explain(text, exc) or _libyaml_words(exc)))
        except yaml.reader.ReaderError as exc:
            # libyaml reports a byte offset into the UTF-8 encoding of the text.
            line = None
            if isinstance(exc.position, int):
                line = text.encode("utf-8")[: exc.position].count(b"\n") + 1
            code = code_point(exc.character)
            self.report(line, f"invalid character{code} in the file: {exc.reason}")
        except Exception as exc:  # libyaml or memory trouble: never leak a traceback
            self.report(None, f"could not parse YAML: {type(exc).__name__}: {exc}")
        finally:
            loader.dispose()
        raise SyntaxFailure

    def _compose_events(self, loader: Any) -> Node | None:
        """Iterative (no recursion, so nesting depth is harmless) tree builder."""
        root: Node | None = None
        stack: list[tuple[MappingNode | SequenceNode, bool]] = []
        documents = 0
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            line = event.start_mark.line + 1
            if kind is yaml.ScalarEvent:
                node: Node = self._scalar(event, line)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                is_map = kind is yaml.MappingStartEvent
                allowed = _ALLOWED_MAPPING_TAGS if is_map else _ALLOWED_SEQUENCE_TAGS
                ok = self._check_anchor_and_tag(event, line, allowed)
                stack.append((MappingNode(line) if is_map else SequenceNode(line, bool(event.flow_style)), ok))
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                container, ok = stack.pop()
                container.end_line = event.end_mark.line + 1
                node = container if ok else Rejected(container.line, container.end_line)
            elif kind is yaml.AliasEvent:
                self.report_in_entry(line, f"YAML aliases (*{event.anchor}) are not allowed; write the value out")
                node = Rejected(line)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.report(line, "a second YAML document starts here; only one is allowed")
                    return root
                continue
            else:
                continue
            if not stack:
                root = node
                continue
            parent = stack[-1][0]
            if type(parent) is SequenceNode:
                parent.items.append(node)
            elif parent.pending_key is None:
                parent.pending_key = node
            else:
                parent.pairs.append((parent.pending_key, node))
                parent.pending_key = None
        return root

    def _scalar(self, event: Any, line: int) -> Node:
        last = event.end_mark.line + 1
        if event.anchor is None and event.tag is None:  # the common case
            return Scalar(_resolver.resolve(yaml.ScalarNode, event.value, event.implicit), event.value, line, last)
        if not self._check_anchor_and_tag(event, line, _ALLOWED_SCALAR_TAGS):
            return Rejected(line)
        tag = event.tag
        implicit_tag = _resolver.resolve(yaml.ScalarNode, event.value, (True, False))
        if tag is None:
            tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        elif tag != STR and tag != implicit_tag and not (tag == FLOAT and implicit_tag == INT):
            self.report_in_entry(line, f"{show(event.value)} is not a valid {tag_name(tag)}")
            return Rejected(line)
        return Scalar(tag, event.value, line, last)

    def _check_anchor_and_tag(self, event: Any, line: int, allowed: frozenset[str]) -> bool:
        """Report anchors (kept: harmless alone) and tags (value dropped)."""
        if event.anchor is not None:
            self.report_in_entry(line, f"YAML anchors (&{event.anchor}) are not allowed; write the value out")
        if event.tag is not None and event.tag not in allowed:
            self.report_in_entry(line, f"YAML tag {tag_name(event.tag)} is not allowed; use plain values")
            return False
        return True
