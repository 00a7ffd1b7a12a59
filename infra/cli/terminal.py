"""Output for people and machines: `--format`, aligned tables, plurals, colour only on a terminal (and never
with NO_COLOR)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from infra.operations.status import LIVE, PROBLEM, WAITING

_ANSI = re.compile(r"\033\[[0-9;]*m")
_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def style(text: str, name: str, stream: TextIO | None = None) -> str:
    if not use_colour(stream or sys.stdout):
        return text
    return f"\033[{_STYLES[name]}m{text}\033[0m"


# How a hostname's level looks: its colour on a terminal and its mark in Markdown, one table for both.
LEVELS = {LIVE: ("green", "🟢"), WAITING: ("yellow", "🟡"), PROBLEM: ("red", "🔴")}


def level_style(text: str, level: str, stream: TextIO | None = None) -> str:
    """`text` in the colour of a level (live, waiting, problem)."""
    return style(text, LEVELS[level][0], stream)


def mark(level: str) -> str:
    """The level's mark in Markdown: a coloured circle."""
    return LEVELS[level][1]


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


def progress(message: str, stream: TextIO | None = None) -> None:
    """A one-line note before slow work, on a terminal only: pipes and CI logs stay clean."""
    stream = stream or sys.stderr
    if stream.isatty():
        print(style(message, "dim", stream), file=stream, flush=True)


class PageProgress:
    """A one-line progress bar on a terminal (stderr); silent in pipes and CI logs."""

    WIDTH = 24

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.active = self.stream.isatty()
        self.drawn = False

    def __call__(self, page: int, total: int | None) -> None:
        if not self.active:
            return
        if total:
            filled = round(self.WIDTH * page / total)
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] page {page}/{total}"
        else:
            bar = f"page {page}"
        self.stream.write(f"\r{style(self.label, 'dim', self.stream)} {bar}")
        self.stream.flush()
        self.drawn = True

    def __enter__(self) -> PageProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
