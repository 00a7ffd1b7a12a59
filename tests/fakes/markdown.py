"""Markdown as GitHub reads it (CommonMark with GFM tables, via markdown-it-py), for tests of what we render.

Asserting on our own string building would prove only our reading of the syntax; parsing it back
with a CommonMark parser proves a cell stays a cell and a code span stays a code span.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class Cell:
    text: str  # what a reader sees, code spans included
    code: tuple[str, ...]  # the contents of the cell's code spans
    plain: str  # text outside code spans: where @mentions, #links and HTML would act


def tables(markdown: str) -> list[list[list[Cell]]]:
    """Every table: its rows (header first), each a list of cells."""
    found: list[list[list[Cell]]] = []
    row: list[Cell] | None = None
    for token in _PARSER.parse(markdown):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            found[-1].append(row)
        elif token.type == "inline" and row is not None and found:
            children = token.children or []
            row.append(Cell(text="".join(child.content for child in children),
                            code=tuple(child.content for child in children if child.type == "code_inline"),
                            plain="".join(child.content for child in children if child.type != "code_inline")))
        elif token.type == "table_close":
            row = None
    return found


def html_or_mentions(markdown: str) -> list[str]:
    """Raw HTML, and text outside code spans that GitHub would turn into a mention or an issue link."""
    hits = []
    for token in _PARSER.parse(markdown):
        for child in token.children or []:
            if child.type in ("html_inline", "html_block"):
                hits.append(child.content)
            elif child.type == "text" and ("@" in child.content or "#" in child.content):
                hits.append(child.content)
        if token.type == "html_block":
            hits.append(token.content)
    return hits
