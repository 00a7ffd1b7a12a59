"""libyaml's parser errors in words a person who edits customers.yaml can act on.

libyaml stops at the first thing it cannot parse and says what the parser expected ("did not find
expected key, while parsing a block mapping"). This module reads the lines around that spot and says
what to change instead: which line is indented differently from which, that a `-` item is not under
its key, that a line has a tab, that a quote or bracket is never closed, that a value needs quotes.
It only words the error: the file is refused either way, and an error it does not recognise keeps
libyaml's words (`explain` returns None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.model.customers.model import CUSTOMER_KEYS, DEFAULTS_KEYS, TOP_LEVEL_KEYS
from infra.model.customers.ssl_fields import SSL_KEYS
from infra.model.messages import code

# Keys that sit side by side in one mapping: a misplaced key is compared with its siblings' lines.
_FAMILIES = (frozenset(TOP_LEVEL_KEYS), frozenset(CUSTOMER_KEYS) | frozenset(DEFAULTS_KEYS), frozenset(SSL_KEYS))
_KNOWN_KEYS = frozenset().union(*_FAMILIES)
_KEY_CHAR = r"[^\s#:\[\]{},]"
# A key as people write them: a quoted string, or words (single spaces between them) that do not start
# with a YAML indicator; also `-id`, a `- ` that lost its space. Keys written any other way are not
# guessed at.
_KEY = re.compile(
    rf"""(?:-[ \t]+)*("[^"]*"|'[^']*'|[^\s#'"\[\]{{}}:,&*!|>%@`?-]{_KEY_CHAR}*(?: {_KEY_CHAR}+)*"""
    rf"""|-[A-Za-z]{_KEY_CHAR}*(?: {_KEY_CHAR}+)*)[ \t]*:(?:[ \t]|$)"""
)
_QUOTE_CHARS = "'\""
# Line breaks to YAML that most editors do not show as such: with one in the file, the lines YAML
# counts are not the lines a person sees, so the parser's own words are kept.
_UNSEEN_BREAKS = "\x85\u2028\u2029"
_CLOSERS = {"[": "]", "{": "}"}


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    text: str

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip(" "))

    @property
    def content(self) -> str:
        return self.text.strip()

    @property
    def is_item(self) -> bool:
        return self.content == "-" or self.content.startswith(("- ", "-\t"))

    @property
    def item_value(self) -> str:
        """What follows the `- ` of an item line."""
        return self.content[1:].strip()

    @property
    def key(self) -> tuple[str, int] | None:
        """The key this line starts (also after `- `) and its column, or None."""
        start = self.indent
        match = _KEY.match(self.text, start)
        if match is None:
            return None
        return match.group(1).strip("'\""), match.start(1)

    @property
    def inline_value(self) -> str:
        """What follows `key:` on this line, without a comment."""
        match = _KEY.match(self.text, self.indent)
        return _without_comment(self.text[match.end():]).strip() if match else ""


class _Document:
    def __init__(self, text: str) -> None:
        self.lines = [_Line(number, line) for number, line in enumerate(text.splitlines(), start=1)]

    def line(self, number: int) -> _Line:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else _Line(number, "")

    def before(self, number: int) -> list[_Line]:
        """The lines with content before line `number`, nearest first."""
        return [line for line in reversed(self.lines[: max(number - 1, 0)])
                if line.content and not line.content.startswith("#")]


def explain(text: str, error: Any) -> tuple[int, str] | None:
    """(line, message) for a libyaml MarkedYAMLError, or None to keep libyaml's words.

    Never raises: these are guesses from the lines around the error, and a guess that fails (on a
    file no person wrote) must leave the parser's own words, not a traceback."""
    try:
        return explain_or_raise(text, error)
    except Exception:  # tests call explain_or_raise, where such a failure shows
        return None


def explain_or_raise(text: str, error: Any) -> tuple[int, str] | None:
    """`explain` without its guard, for tests."""
    mark = error.problem_mark
    if mark is None or any(char in text for char in _UNSEEN_BREAKS):
        return None
    problem, context = error.problem or "", error.context or ""
    context_mark = error.context_mark
    document = _Document(text)
    line, column = document.line(mark.line + 1), mark.column
    opened = document.line(context_mark.line + 1) if context_mark is not None else None
    opened_column = context_mark.column if context_mark is not None else 0
    if "tab" in problem or "\t" in line.text[: line.indent + 1] or line.text[column: column + 1] == "\t":
        return line.number, f"line {line.number} has a tab: use spaces (YAML does not allow tabs for indentation)"
    if opened is not None and "quoted scalar" in context:
        if "end of stream" in problem:
            return _unclosed_quote(opened, opened_column)
        if "escape" in problem:
            return line.number, (f"line {line.number} has {code(line.text[column: column + 2])} inside double "
                                 "quotes, where a backslash starts an escape: use single quotes instead")
    if opened is not None and "flow" in context and "did not find expected ','" in problem:
        return _in_brackets(document, line, column, opened, opened_column)
    if "while scanning an alias" in context or "while scanning an anchor" in context:
        if opened is not None:
            value = re.split(r"[\s,\]}]", opened.text[opened_column:], maxsplit=1)[0]
            return opened.number, (f"the value {code(value)} on line {opened.number} starts with "
                                   f"{code(value[:1])}, so it must be quoted: write {code(_single_quoted(value))}")
    if "expected node content" in problem and "flow" in context and line.text[column: column + 1] == ",":
        return line.number, f"line {line.number} has two commas with nothing between them: remove one {code(',')}"
    if "cannot start any token" in problem:
        return _cannot_start(line, column)
    if "mapping values are not allowed" in problem:
        return _colon_in_value(document, line, column)
    if "block sequence entries are not allowed" in problem:
        return _item_after_key(line)
    if "could not find expected ':'" in problem and opened is not None:
        return _not_a_pair(opened)
    if any(words in problem for words in ("did not find expected key", "did not find expected '-' indicator",
                                          "expected <block end>")):
        in_mapping = "block mapping" in context
        return _misplaced(document, line, column, opened, opened_column, in_mapping)
    return None


# -- one explanation per kind of error ------------------------------------------------------------


def _unclosed_quote(line: _Line, column: int) -> tuple[int, str]:
    """A quote opened at `column` of `line` and never closed: where the value most likely ends."""
    quote = line.text[column]
    rest = line.text[column + 1:]
    in_brackets = any(c in line.text[:column] for c in _CLOSERS)
    ends = [rest.find(c) for c in (",]}" if in_brackets else "")] + [_comment_start(rest)]
    end = min((e for e in ends if e >= 0), default=len(rest.rstrip()))
    value = rest[:end].rstrip()
    fixed = line.text[: column + 1] + value + quote + rest[len(value):]
    return line.number, (f"the {code(quote)} before {code(value)} on line {line.number} is never closed: "
                         f"write {code(fixed.strip())}")


def _in_brackets(document: _Document, line: _Line, column: int, opened: _Line,
                 opened_column: int) -> tuple[int, str] | None:
    """A `[` or `{` that is never closed, brackets that do not match, or items inside a pair of brackets
    that are not separated by commas."""
    bracket = opened.text[opened_column]
    closer = _CLOSERS.get(bracket, "]")
    unclosed, matched = _brackets(opened.text[opened_column:])
    if not matched or line.text[column: column + 1] in ("[", "{", "]", "}"):
        return opened.number, (f"the brackets on line {opened.number} do not match: every {code('[')} needs its "
                               f"{code(']')} and every {code('{')} its {code('}')}")
    if unclosed:
        if any(c in other.text for other in document.lines[opened.number: line.number] for c in "]}"):
            return None  # a list or mapping over several lines: the parser's words are as good as a guess
        body = _without_comment(opened.text).rstrip().rstrip(",").strip()
        what = "list" if bracket == "[" else "mapping"
        ending = "".join(_CLOSERS[c] for c in reversed(unclosed))
        return opened.number, (f"the {code(bracket)} on line {opened.number} is never closed: end the {what} "
                               f"with {code(closer)}, as in {code(body + ending)}")
    snippet = line.text[column:].strip()
    how = ("separate the items of a `[...]` list with commas" if bracket == "[" else
           "write the pairs of a `{...}` mapping as `key: value`, separated by commas")
    return line.number, f"a {code(',')} or {code(closer)} belongs before {code(snippet)} on line {line.number}: {how}"


def _cannot_start(line: _Line, column: int) -> tuple[int, str]:
    char = line.text[column: column + 1]
    if char == "`":
        if "`" not in line.text[column + 1:]:
            return line.number, f"remove the {code(char)} on line {line.number}"
        inner = line.text[column + 1:].split("`", 1)[0]
        return line.number, f"remove the backticks around {code(inner)} on line {line.number}"
    value = re.split(r"[\s,\]}]", line.text[column:], maxsplit=1)[0]
    return line.number, (f"the value {code(value)} on line {line.number} cannot start with {code(char)}: remove "
                         f"the {code(char)}, or put the whole value in quotes: {code(_single_quoted(value))}")


def _colon_in_value(document: _Document, line: _Line, column: int) -> tuple[int, str] | None:
    """`mapping values are not allowed here`: a `: ` inside a value, or a key YAML read as the rest of
    the line above (indented more than its siblings, or the line above lacks its `: `)."""
    match = _KEY.match(line.text, line.indent)
    if match is None:
        return None
    name, key_column = match.group(1).strip("'\""), match.start(1)
    if match.end() <= column:
        head = line.text[: match.end()].strip()
        value = _without_comment(line.text[match.end():]).strip()
        return line.number, (f"line {line.number} has a second {code(': ')} in the value of {code(name + ':')}: "
                             f"remove it, or put the value in quotes: {code(head + ' ' + _single_quoted(value))}")
    if line.text.find(":", match.end(1)) != column:
        return None
    above = next(iter(document.before(line.number)), None)
    if above is None:
        return None
    own = above.item_value if above.is_item else above.content
    if re.match(r"-[^\s\d-]", own):
        fixed = ("- - " if above.is_item else "- ") + own[1:]
        return above.number, f"line {above.number} needs a space after the {code('-')}: write {code(fixed)}"
    if above.key is not None:
        return _indented_differently(document, line, name, key_column, above)
    word = re.match(r"([A-Za-z_][\w-]*)(:?)(.*)", own)
    if word and word.group(1) in _KNOWN_KEYS:
        fixed = f"{'- ' if above.is_item else ''}{word.group(1)}: {word.group(3).strip()}".rstrip()
        missing = f"a space after the {code(':')}" if word.group(2) else f"a {code(':')} after {code(word.group(1))}"
        return above.number, f"line {above.number} needs {missing}: write {code(fixed)}"
    reference = _key_reference(document, line.number, name, key_column)
    return None if reference is None else _indented_differently(document, line, name, key_column, reference)


def _item_after_key(line: _Line) -> tuple[int, str] | None:
    key = line.key
    if key is None or not line.inline_value.startswith("-"):
        return None
    name = key[0]
    items = [part.strip() for part in line.text.split(":", 1)[-1].split(" - ") if part.strip()]
    items = [item[1:].strip() if item.startswith("-") else item for item in items]
    flow = f"{name}: [{', '.join(items)}]"
    return line.number, (f"a {code('- ')} item cannot follow {code(name + ':')} on the same line (line "
                         f"{line.number}): write {code(flow)}, or put each {code('- ')} item on its own line, "
                         f"indented under {code(name + ':')}")


def _not_a_pair(line: _Line) -> tuple[int, str] | None:
    """A line that is a bare value where a key belongs (a key without its `:`)."""
    word = line.content.split()[0] if line.content else ""
    if ":" in line.content or not re.match(r"[\w*.]", line.content):
        return None  # more than a missing `:`: the parser's words are as good as a guess
    if word in _KNOWN_KEYS:
        return line.number, f"line {line.number} needs a {code(':')} after {code(word)}: write {code(word + ':')}"
    return line.number, (f"line {line.number} is neither {code('key: value')} nor a {code('- ')} item: add the "
                         f"missing {code(':')} to {code(line.content)}, or remove the line")


def _misplaced(document: _Document, line: _Line, column: int, opened: _Line | None, opened_column: int,
               in_mapping: bool) -> tuple[int, str] | None:
    """A line YAML cannot place: indented differently from its siblings, or something left over mid-line."""
    if column > line.indent:
        return _left_over(document, line, column)
    if line.is_item:
        if in_mapping and opened is not None and line.indent == opened_column:
            return _item_not_under_its_key(document, line)
        reference = _item_reference(document, line)
        return None if reference is None else _item_indented_differently(document, line, reference)
    key = line.key
    if key is None:
        return _not_a_pair(line)
    name, key_column = key
    if name == "id" and not in_mapping and opened is not None and key_column == opened_column:
        entry = next((other for other in document.before(line.number)
                      if other.is_item and other.indent == opened_column), None)
        under = f", its {code('-')} under the {code('-')} of line {entry.number}" if entry else ""
        return line.number, (f"line {line.number} starts a new customer entry without {code('- ')}: write "
                             f"{code('- ' + line.content)}{under}")
    reference = None
    if in_mapping and opened is not None:  # the mapping the parser was in, unless `name` belongs elsewhere
        reference = next((other for other in document.before(line.number)
                          if other.key is not None and other.key[1] == opened_column), None)
        family = _family(name)
        if reference is None or (family is not None and reference.key[0] not in family):
            reference = _key_reference(document, line.number, name, key_column, nearest=False) or reference
    else:
        reference = _key_reference(document, line.number, name, key_column)
    return None if reference is None else _indented_differently(document, line, name, key_column, reference)


def _left_over(document: _Document, line: _Line, column: int) -> tuple[int, str] | None:
    """Text after a value's end: an extra bracket, text after a quoted value, a quote closed lines later."""
    char = line.text[column: column + 1]
    if char in ("]", "}"):
        return line.number, f"the {code(char)} on line {line.number} closes nothing: remove it"
    before = line.text[:column].rstrip()
    rest = _without_comment(line.text[column:]).strip()
    if before and before[-1] in _QUOTE_CHARS:
        quote = before[-1]
        if before.count(quote) % 2:  # the quote that ends here opened on an earlier line
            opener = next((other for other in document.before(line.number) if quote in other.text), None)
            if opener is not None and opener.text.count(quote) % 2:
                return _unclosed_quote(opener, opener.text.rindex(quote))
        return line.number, (f"{code(rest)} follows the quoted value on line {line.number}: put the whole "
                             "value inside the quotes, or remove what follows them")
    if before and before[-1] in ("]", "}"):
        return line.number, (f"{code(rest)} follows the {code(before[-1])} on line {line.number}: move it "
                             "inside the brackets, separated by a comma")
    return None


def _item_not_under_its_key(document: _Document, line: _Line) -> tuple[int, str] | None:
    """A `- ` item at the column of the keys around it: it belongs under the key above."""
    owner = next((other for other in document.before(line.number)
                  if other.key is not None and other.key[1] == line.indent and not other.is_item), None)
    if owner is None:
        owner = next((other for other in document.before(line.number)
                      if other.key is not None and other.key[1] == line.indent), None)
    if owner is None:
        return None
    name = owner.key[0]
    where = f"a {code('-')} list item at line {line.number} is not under {code(name + ':')}"
    if owner.inline_value:
        return line.number, (f"{where}: line {owner.number} already gives {code(name)} a value "
                             f"({code(owner.inline_value)}); list every item as a {code('- ')} line indented "
                             f"under {code(name + ':')}, or all of them inside one {code('[...]')}")
    sibling = next((other for other in document.before(line.number)
                    if other.is_item and other.number > owner.number and other.indent > line.indent), None)
    if sibling is not None:
        return line.number, (f"{where}: put its {code('-')} under the {code('-')} of line {sibling.number}, "
                             f"{_spaces(sibling.indent)} in (it has {_spaces(line.indent)})")
    return line.number, f"{where}: indent it more than {code(name + ':')} (line {owner.number})"


# -- finding the line a misplaced one should line up with -----------------------------------------


def _item_reference(document: _Document, line: _Line) -> _Line | None:
    """The nearest `- ` item above of the same kind (a `- key: value` entry or a `- value`)."""
    starts_entry = _starts_entry(line)
    return next((other for other in document.before(line.number)
                 if other.is_item and _starts_entry(other) == starts_entry), None)


def _starts_entry(line: _Line) -> bool:
    return _Line(0, line.item_value).key is not None


def _family(name: str) -> frozenset[str] | None:
    return next((family for family in _FAMILIES if name in family), None)


def _key_reference(document: _Document, number: int, name: str, column: int, *,
                   nearest: bool = True) -> _Line | None:
    """The line of a sibling key above: one of the keys that sit beside `name`, else (when `nearest`)
    the nearest key in the column closest to `column` (the deeper one on a tie)."""
    keyed = [other for other in document.before(number) if other.key is not None and other.key[1] != column]
    family = _family(name)
    sibling = next((other for other in keyed if family is not None and other.key[0] in family), None)
    if sibling is not None or not nearest or not keyed:
        return sibling
    return min(keyed, key=lambda other: (abs(other.key[1] - column), -other.key[1]))


def _block(document: _Document, line: _Line, column: int) -> list[_Line]:
    """The lines with content around `line` that start at `column` or deeper (its block)."""
    lines = [other for other in document.lines if other.content and not other.content.startswith("#")]
    at = next(index for index, other in enumerate(lines) if other.number == line.number)
    start = at
    while start > 0 and lines[start - 1].indent >= column:
        start -= 1
    end = at
    while end + 1 < len(lines) and lines[end + 1].indent >= column:
        end += 1
    return lines[start: end + 1]


def _outnumbered(block: list[_Line], line: _Line, reference: _Line, column_of) -> list[_Line]:
    """The lines of `block` in `line`'s column, when they outnumber those in `reference`'s: then it is
    the reference that stands out (the first key or item of a block indented differently)."""
    mine = [other for other in block if column_of(other) == column_of(line)]
    theirs = [other for other in block if column_of(other) == column_of(reference) and other is not reference]
    return mine if len(mine) > len(theirs) + 1 else []


def _indented_differently(document: _Document, line: _Line, name: str, column: int,
                          reference: _Line) -> tuple[int, str]:
    """`line`'s key `name` (at `column`) and `reference`'s key do not line up: move the one that stands out."""
    other, other_column = reference.key if reference.key else ("", reference.indent)
    family = _family(name)
    block = [candidate for candidate in _block(document, line, min(column, other_column, line.indent))
             if candidate.key is not None and (family is None or candidate.key[0] in family)]
    majority = _outnumbered(block, line, reference, lambda candidate: candidate.key[1]) if other else []
    if majority:
        how = _move(reference, other, other_column, column, f"{code(name + ':')} on line {line.number}")
        return reference.number, f"line {reference.number} is indented differently from {_span(majority)}: {how}"
    like = f"{code(other + ':')} on line {reference.number}" if other else f"line {reference.number}"
    return line.number, (f"line {line.number} is indented differently from line {reference.number}: "
                         f"{_move(line, name, column, other_column, like)}")


def _move(line: _Line, name: str, column: int, to: int, like: str) -> str:
    """How to move `line`'s key `name` from `column` to column `to`, as `like` is: by its `-` when it
    follows one."""
    if line.is_item:
        dash = to - (column - line.indent)
        return (f"indent its {code('-')} by {_spaces(dash)} so that {code(name + ':')} lines up with {like} "
                f"(it has {_spaces(line.indent)})")
    if to == 0:
        return f"do not indent {code(name + ':')}, like {like} (it has {_spaces(column)})"
    return f"indent {code(name + ':')} by {_spaces(to)}, like {like} (it has {_spaces(column)})"


def _item_indented_differently(document: _Document, line: _Line, reference: _Line) -> tuple[int, str]:
    kind = _starts_entry(line)
    block = [candidate for candidate in _block(document, line, min(line.indent, reference.indent))
             if candidate.is_item and _starts_entry(candidate) == kind]
    majority = _outnumbered(block, line, reference, lambda candidate: candidate.indent)
    if majority:
        return reference.number, (f"line {reference.number} is indented differently from {_span(majority)}: put "
                                  f"its {code('-')} under the {code('-')} of line {line.number}, "
                                  f"{_spaces(line.indent)} in (it has {_spaces(reference.indent)})")
    return line.number, (f"line {line.number} is indented differently from line {reference.number}: put its "
                         f"{code('-')} under the {code('-')} of line {reference.number}, "
                         f"{_spaces(reference.indent)} in (it has {_spaces(line.indent)})")


def _span(lines: list[_Line]) -> str:
    first, last = lines[0].number, lines[-1].number
    return f"line {first}" if first == last else f"lines {first}-{last}"


# -- small helpers --------------------------------------------------------------------------------


def _spaces(count: int) -> str:
    return "no spaces" if count == 0 else "1 space" if count == 1 else f"{count} spaces"


def _single_quoted(value: str) -> str:
    """A value in YAML single quotes (a quote inside is doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _comment_start(text: str) -> int:
    match = re.search(r"(?:^|\s)#", text)
    return match.start() if match else -1


def _without_comment(text: str) -> str:
    start = _comment_start(text)
    return text if start < 0 else text[:start]


def _brackets(text: str) -> tuple[list[str], bool]:
    """The brackets `text` leaves open (outside quotes and comments), and whether its closers matched."""
    stack: list[str] = []
    quote = ""
    for char in _without_comment(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in _QUOTE_CHARS:
            quote = char
        elif char in _CLOSERS:
            stack.append(char)
        elif char in ("]", "}"):
            if not stack or _CLOSERS[stack.pop()] != char:
                return stack, False
    return stack, True
