"""Every command's Markdown, in one place: for a pull-request comment, a ticket, a job summary, the status issue.

Values that come from outside (hostnames, statuses, Cloudflare's error texts, customer ids) go into
code spans (`code`: no @mention, #link or HTML survives, and `|` cannot break a table); our own prose
in a cell goes through `cell`. Tables are bounded where they can grow with the zone (GitHub caps an
issue body at 65,536 characters and a job summary at 1 MiB); the JSON reports always hold every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from infra.cli.terminal import mark, plural
from infra.clients.github import MAX_BODY_CHARACTERS
from infra.model.hostnames import registrable_domain
from infra.operations.check import failing_and_warnings
from infra.operations.diff import GUARD_PREFIX, DiffReport
from infra.operations.instructions import Instructions, needed
from infra.operations.status import LIVE, PROBLEM, WAITING
from infra.operations.status_changes import StatusChanges
from infra.operations.status_issue import MARKER, WorkflowRun
from infra.operations.status_reports import Previous
from infra.operations.validate import ValidationReport

DIFF_COMMENT_MARKER = "<!-- saas-domains-diff -->"  # lets CI find and update its one pull-request comment
COLLAPSE_OVER_ROWS = 10  # a diff with more hostname changes folds its table
NEWS_ITEMS = 50  # hostnames named per list of changes in the status issue; the rest are counted


# -- the two escapes -------------------------------------------------------------------------------------


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


# -- status ----------------------------------------------------------------------------------------------


DEFAULT_MAX_ROWS = 100
ERROR_CHARACTERS = 160  # of one Cloudflare error message, in a cell


def state_counts(report: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(state, hostnames) in the order a reader scans them: served, in progress, broken, drift."""
    summary = report["summary"]
    return [
        (f"{mark(LIVE)} live", summary["live"]),
        (f"{mark(WAITING)} waiting (in progress, no action yet)", summary["waiting"]),
        (f"{mark(PROBLEM)} problem", summary["problem"]),
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


def status_markdown(report: Mapping[str, Any], *, max_rows: int = DEFAULT_MAX_ROWS,
                    heading: str = "###") -> str:
    """The whole report: verdict, counts per state, the fallback origin, then what needs attention."""
    summary, origin = report["summary"], report["fallback_origin"]
    scope = f", customer {code(report['customer'])}" if report.get("customer") else ""
    verdict = (f"{mark(PROBLEM)} **needs attention**" if report["attention"]
               else f"{mark(LIVE)} **nothing needs attention**")
    lines = [f"{heading} Custom hostname status: {code(report['zone'])} (stack {code(report['stack'])}{scope})", "",
             f"{verdict} · {summary['declared']:,} declared hostnames · {summary['in_cloudflare']:,} custom "
             "hostnames in Cloudflare", "",
             "| State | Hostnames |", "| --- | ---: |"]
    lines += [f"| {state} | {count:,} |" for state, count in state_counts(report)]
    origin_name = code(origin["origin"]) if origin.get("origin") else "(none)"
    lines += ["", f"**Fallback origin** {origin_name}: {mark(origin['level'])} {cell(origin['next_step'])}"]
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


# -- the status issue --------------------------------------------------------------------------------------


def named(hostnames: Sequence[str], limit: int = NEWS_ITEMS) -> str:
    """`a`, `b`, `c` and 12 more: code spans, so API text stays inert."""
    shown = ", ".join(code(name) for name in hostnames[:limit])
    rest = len(hostnames) - min(len(hostnames), limit)
    if not shown:
        return f"{rest:,} hostnames" if rest else ""
    return f"{shown} and {rest:,} more" if rest else shown


def changes_lines(change: StatusChanges | None, why_none: str, *, limit: int = NEWS_ITEMS) -> list[str]:
    if change is None:
        return [f"Nothing to compare with yet: {why_none}. The next run reports what changed since this one."]
    if change.empty:
        return ["Nothing changed since the previous report."]
    lines = []
    if change.fallback_stopped:
        lines.append(f"- {mark(PROBLEM)} **The fallback origin stopped being active**: no customer "
                     "hostname is served until it is (see below).")
    if change.fallback_recovered:
        lines.append(f"- {mark(LIVE)} **The fallback origin is active again.**")
    for symbol, label, names in ((mark(PROBLEM), "Started failing", change.started_failing),
                               (mark(LIVE), "Became active", change.became_active),
                               ("➕", "Added", change.added),
                               ("✅", "No longer failing", change.no_longer_failing),
                               ("➖", "Removed", change.removed)):
        if names:
            lines.append(f"- {symbol} **{label} ({len(names):,}):** {named(names, limit)}")
    return lines


def issue_body(report: Mapping[str, Any], previous: Previous, change: StatusChanges | None, run: WorkflowRun, *,
               max_rows: int = DEFAULT_MAX_ROWS, news_limit: int = NEWS_ITEMS) -> str:
    by = f"the [status workflow]({run.url})" if run.url else "`saas-domains status-issue`"
    since = (f"previous report {code(previous.report['generated_at'])}" if previous.report
             else "no previous report")
    lines = [MARKER, f"Updated by {by} at {code(report['generated_at'])}; {since}.", "",
             "## What changed since the previous report", ""]
    lines += changes_lines(change, previous.why_none, limit=news_limit)
    lines += ["", status_markdown(report, heading="##", max_rows=max_rows)]
    return "\n".join(lines) + "\n"


def bounded_issue_body(report: Mapping[str, Any], previous: Previous, change: StatusChanges | None,
                       run: WorkflowRun, *, max_rows: int = DEFAULT_MAX_ROWS,
                       limit: int = MAX_BODY_CHARACTERS) -> str:
    """The body, its tables and lists shrunk until it fits GitHub's limit (a hard guard)."""
    rows = max_rows
    for news_limit in (NEWS_ITEMS, 10, 0):
        rows = max_rows
        while True:
            text = issue_body(report, previous, change, run, max_rows=rows, news_limit=news_limit)
            if len(text) <= limit:
                return text
            if rows == 0:
                break
            rows //= 2
    fallback = "\n".join([MARKER, f"Updated at {code(report['generated_at'])}. The report is too large for an "
                                  "issue: see the job summary of the status workflow, or run `saas-domains status`.",
                          ""])
    return fallback[:limit]


def failing_comment(change: StatusChanges, run: WorkflowRun) -> str:
    """The one notification for news that matters: what started failing."""
    lines = []
    if change.fallback_stopped:
        lines.append(f"{mark(PROBLEM)} The fallback origin stopped being active: no customer hostname is "
                     "served until it is.")
    if change.started_failing:
        lines.append(f"{mark(PROBLEM)} {len(change.started_failing):,} hostname"
                     f"{'s' if len(change.started_failing) != 1 else ''} started failing since the previous report: "
                     f"{named(change.started_failing)}.")
    where = f" ([run]({run.url}))" if run.url else ""
    lines.append(f"The issue body above says what to do for each{where}.")
    return "\n\n".join(lines) + "\n"


# -- check -------------------------------------------------------------------------------------------------


def check_markdown(report: dict[str, Any], stack: str) -> str:
    """For a support ticket: the findings as a table, hostnames and values in code spans."""
    customer = f"customer {code(report['customer'])}, " if report["customer"] else ""
    failures, warnings = failing_and_warnings(report)
    verdict = "the DNS is right" if not failures else "fix the failing checks"
    lines = [f"### saas-domains check: {code(report['hostname'])}", "",
             f"{customer}target {code(report['target'])}, resolver {code(report['resolver'])}, {cell(stack)}", "",
             "| Status | Check | Finding |", "| --- | --- | --- |"]
    lines += [f"| {f['status']} | {f['check']} | {cell(f['message'])} |" for f in report["findings"]]
    lines += ["", f"**{failures} failing, {plural(warnings, 'warning')}: {verdict}**"]
    return "\n".join(lines)


# -- instructions ------------------------------------------------------------------------------------------


def instructions_markdown(result: Instructions) -> str:
    lines = [f"### DNS records for `{result.hostname}`", "",
             f"Please add these records at the DNS provider of `{registrable_domain(result.hostname)}`:", "",
             "| Type | Name | Value | Needed | Why |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.type} | `{r.name}` | `{r.value}` | {needed(r.required)} | {r.purpose} |"
              for r in result.records]
    if result.notes:
        lines += [""] + [f"- {note}" for note in result.notes]
    return "\n".join(lines)


# -- diff --------------------------------------------------------------------------------------------------


def diff_markdown(report: DiffReport, stack: str) -> str:
    """The pull-request comment: summary first, the hostname table folded when it is long."""
    rows = report.rows()
    lines = [DIFF_COMMENT_MARKER, f"### saas-domains: `{report.path}` ({report.base} → {report.head})", "",
             f"**{report.summary()}** · {report.totals()}"]
    if report.customers_line():
        lines += ["", report.customers_line()]
    for note in report.notes:
        lines += ["", f"> {note}"]
    if report.refusal:
        lines += ["", f"> **Removal guard:** {report.refusal.removeprefix(GUARD_PREFIX)}"]
    for note in report.diff.provider_notes:
        lines += ["", f"> **Provider:** {note}"]
    if rows:
        body = ["| Change | Hostname | Customer | Details |", "| --- | --- | --- | --- |"]
        body += [f"| {change} | `{hostname}` | `{customer}` | {details} |"
                 for change, hostname, customer, details in rows]
        if len(rows) > COLLAPSE_OVER_ROWS:
            lines += ["", f"<details><summary>All {len(rows)} hostname changes</summary>", "", *body, "", "</details>"]
        else:
            lines += ["", *body]
    if report.shards is not None:
        lines += ["", f"**Per shard:** {report.shard_summary()}", "",
                  "| Shard | Stack | Added | Removed | Changed | Hostnames after |",
                  "| ---: | --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {n} | `{shard_stack}` | {a} | {r} | {c} | {after} |"
                  for n, shard_stack, a, r, c, after in report.shard_rows()]
    lines += ["", f"<sub>Rendered by `saas-domains diff` with the settings of {stack} from the customers file "
                  "alone; `pulumi preview` shows the cloud's view.</sub>"]
    return "\n".join(lines)


# -- validate ----------------------------------------------------------------------------------------------


def validate_markdown(report: ValidationReport, stack: str) -> str:
    if not report.valid:
        return "\n".join([f"### saas-domains validate: `{report.file}`", "",
                          f"**{plural(len(report.problems), 'problem')}** with the rules of {stack}:", "",
                          *(f"- {p}" for p in report.problems)])
    customers, settings, check = report.customers, report.settings, report.guard
    lines = [f"### saas-domains validate: `{report.file}`", "",
             f"**valid**: {plural(len(customers.customers), 'customer')}, "
             f"{plural(len(customers.hostnames), 'hostname')} "
             f"(cap {settings.max_hostnames:,}, zone `{settings.zone}`), with the rules of {stack}", ""]
    if check.refusal:
        lines.append(f"> **Removal guard:** {check.refusal.removeprefix(GUARD_PREFIX)}")
    else:
        lines.append(f"Removal guard: {check.summary()}")
    return "\n".join(lines)
