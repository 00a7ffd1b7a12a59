"""The status report as Markdown, for a ticket, a job summary or the status issue.

Counts per state come first, then only what needs attention, each with its next step: a person
reading it in an issue should know what to do without running anything. Hostnames, statuses and
Cloudflare's error texts come from the API and may hold anything, so every such value goes into a
code span (no @mention, #link or HTML survives) and cells are kept on one line with `|` escaped.
Tables are bounded (GitHub caps an issue body at 65,536 characters and a job summary at 1 MiB);
the JSON report always holds every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.operations.status import LIVE, PROBLEM, WAITING

DEFAULT_MAX_ROWS = 100
ERROR_CHARACTERS = 160  # of one Cloudflare error message, in a cell
LEVEL_MARKS = {LIVE: "🟢", WAITING: "🟡", PROBLEM: "🔴"}


def code(value: Any) -> str:
    """A code span that holds any text: backticks get a longer fence, `|` and newlines cannot break the table."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    if not text:
        return "—"
    fence = "`" * (_longest_backtick_run(text) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for character in text:
        run = run + 1 if character == "`" else 0
        longest = max(longest, run)
    return longest


def cell(text: Any) -> str:
    """Our own prose in a cell: one line, `|` escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def state_counts(report: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(state, hostnames) in the order a reader scans them: served, in progress, broken, drift."""
    summary = report["summary"]
    return [
        (f"{LEVEL_MARKS[LIVE]} live", summary["live"]),
        (f"{LEVEL_MARKS[WAITING]} waiting (in progress, no action yet)", summary["waiting"]),
        (f"{LEVEL_MARKS[PROBLEM]} problem", summary["problem"]),
        ("declared but missing in Cloudflare", summary["missing_in_cloudflare"]),
        ("in Cloudflare but not in the customers file", summary["not_in_customers_file"]),
    ]


def attention_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every hostname that needs a person: problems, then drift both ways; each with its next step."""
    rows = [{**row, "why": "problem"} for row in report["hostnames"] if row["level"] == PROBLEM]
    rows += [{**row, "why": "missing in Cloudflare"} for row in report["missing_in_cloudflare"]]
    rows += [{**row, "why": "not in the customers file"} for row in report["not_in_customers_file"]]
    return rows


def _errors(row: Mapping[str, Any]) -> str:
    messages = list(row.get("verification_errors") or []) + list(row.get("ssl_validation_errors") or [])
    shown = [code(_shorten(str(message))) for message in messages[:2]]
    if len(messages) > 2:
        shown.append(f"(+{len(messages) - 2} more)")
    return "<br>".join(shown)


def _shorten(text: str) -> str:
    return text if len(text) <= ERROR_CHARACTERS else text[: ERROR_CHARACTERS - 1] + "…"


def attention_table(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = ["| Hostname | Customer | Why | Status | Certificate | Age | Next step | Cloudflare says |",
             "| --- | --- | --- | --- | --- | ---: | --- | --- |"]
    for row in rows:
        lines.append("| " + " | ".join((
            code(row["hostname"]), code(row["customer"]) if row.get("customer") else "—", cell(row["why"]),
            code(row["status"]) if row.get("status") else "—",
            code(row["ssl_status"]) if row.get("ssl_status") else "—",
            cell(row.get("age") or "—"), cell(row["next_step"]), _errors(row) or "—")) + " |")
    return lines


def render_markdown(report: Mapping[str, Any], *, max_rows: int = DEFAULT_MAX_ROWS,
                    heading: str = "###") -> str:
    """The whole report: verdict, counts per state, the fallback origin, then what needs attention."""
    summary, origin = report["summary"], report["fallback_origin"]
    scope = f", customer {code(report['customer'])}" if report.get("customer") else ""
    verdict = (f"{LEVEL_MARKS[PROBLEM]} **needs attention**" if report["attention"]
               else f"{LEVEL_MARKS[LIVE]} **nothing needs attention**")
    lines = [f"{heading} Custom hostname status: {code(report['zone'])} (stack {code(report['stack'])}{scope})", "",
             f"{verdict} · {summary['declared']:,} declared hostnames · {summary['in_cloudflare']:,} custom "
             "hostnames in Cloudflare", "",
             "| State | Hostnames |", "| --- | ---: |"]
    lines += [f"| {state} | {count:,} |" for state, count in state_counts(report)]
    origin_name = code(origin["origin"]) if origin.get("origin") else "(none)"
    lines += ["", f"**Fallback origin** {origin_name}: {LEVEL_MARKS[origin['level']]} {cell(origin['next_step'])}"]
    lines += [f"- Cloudflare says {code(_shorten(str(error)))}" for error in origin.get("errors") or []]
    rows = attention_rows(report)
    if rows:
        lines += ["", f"{heading}# Needs attention ({len(rows):,})", ""]
        lines += attention_table(rows[:max_rows])
        if len(rows) > max_rows:
            lines += ["", f"… and {len(rows) - max_rows:,} more: run `saas-domains status --stack "
                          f"{cell(report['stack'])}` (or `--json`) for all of them."]
    if report.get("generated_at"):
        lines += ["", f"<sub>Rendered by `saas-domains status` at {cell(report['generated_at'])}.</sub>"]
    return "\n".join(lines)
