"""Output for people and machines: `--format`, aligned tables, plurals, colour only on a terminal (and never
with NO_COLOR)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

_ANSI = re.compile(r"\033\[[0-9;]*m")
_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def style(text: str, name: str, stream: TextIO | None = None) -> str:
    if not use_colour(stream or sys.stdout):
        return text
    return f"\033[{_STYLES[name]}m{text}\033[0m"


TEXT, MARKDOWN, JSON = "text", "markdown", "json"
FORMATS = (TEXT, MARKDOWN, JSON)
_PURPOSES = {TEXT: "text for a terminal", MARKDOWN: "markdown for a ticket, a comment or a job summary",
             JSON: "json for machines"}


def add_format_arguments(parser: argparse.ArgumentParser, formats: Sequence[str] = FORMATS, default: str = TEXT,
                         purposes: str | None = None) -> None:
    """`--format` and its alias `--json`, the same on every command that prints a report."""
    shown = purposes or ", ".join(_PURPOSES[f] for f in formats)
    parser.add_argument("--format", choices=tuple(formats), default=default, help=f"{shown} (default: {default})")
    parser.add_argument("--json", dest="format", action="store_const", const=JSON, help="the same as --format json")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 resource`, `2 resources`, `1,200 custom hostnames`."""
    return f"{count:,} {singular if count == 1 else plural_form or singular + 's'}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "", empty: str | None = None) -> str:
    """Columns padded to their widest cell (colour codes take no width); the last column is not padded.

    With no rows and `empty` given, that line instead of headers over nothing."""
    if not rows and empty is not None:
        return indent + empty
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append((indent + "  ".join(padded)).rstrip())
    return "\n".join(lines)


def _width(cell: str) -> int:
    return len(_ANSI.sub("", cell))


def print_json(document: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    json.dump(document, stream, indent=2, sort_keys=False)
    stream.write("\n")


def write_json_file(path: Path, document: Any, what: str) -> None:
    """A JSON document for the next step or run (`status --save-report`, `status-issue --save-state`).

    Written only once everything it holds was read, and atomically: the next run finds the old file or
    the new one, never a half-written one."""
    from infra.cli.errors import CommandError  # errors.py imports this module: import when needed
    from infra.operations.files import write_atomically

    try:
        write_atomically(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    except OSError as err:
        raise CommandError(f"cannot write {what} to {path}: {err.strerror or err}") from None


def progress(message: str, stream: TextIO | None = None) -> None:
    """A one-line note before slow work, on a terminal only: pipes and CI logs stay clean."""
    stream = stream or sys.stderr
    if stream.isatty():
        print(style(message, "dim", stream), file=stream, flush=True)
