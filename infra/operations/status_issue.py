"""The status issue: one GitHub issue that says what needs attention in the zone, and what changed.

Pure functions first (no network): the news between the previous report and this one, the issue's
body, and the calls that bring the issue where it should be. Then `find_issue`, which reads
GitHub through a `GitHubApi`, and `perform`, which makes the calls (or, for a dry run, does not).

The state between runs is a file (`--save-state`, kept by the workflow as an artifact, not in the
issue): `{"version": 1, "report": <the JSON report of saas-domains status>, "issue": {"number": N}}`.
An issue body holds at most 65,536 characters; a zone of tens of thousands of hostnames does not
fit in it, and the news ("which hostnames were added") needs every one of them.

Values from the API (hostnames, statuses) are rendered with `code()`: no @mention or #link survives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.operations.github_api import MAX_BODY_CHARACTERS, PER_PAGE, GitHubApi
from infra.operations.status import LIVE, PROBLEM, WAITING
from infra.operations.status_markdown import DEFAULT_MAX_ROWS, LEVEL_MARKS, code, render_markdown

TITLE = "Custom hostname status"
MARKER = "<!-- saas-domains:status-issue -->"
STATE_VERSION = 1
NEWS_ITEMS = 50  # hostnames named per news list; the rest are counted
MAX_LISTING_PAGES = 10  # issues/list-for-repo pages read when looking for the issue (1,000 issues)
MISSING, NOT_IN_FILE = "missing in Cloudflare", "not in the customers file"
FAILING = {PROBLEM, MISSING, NOT_IN_FILE}


class ReportError(Exception):
    """A report or state file that cannot be used; the message names the file."""


# -- reading the files ----------------------------------------------------------------------------------

_REPORT_KEYS = {"zone": str, "generated_at": str, "hostnames": list, "missing_in_cloudflare": list,
                "not_in_customers_file": list, "fallback_origin": dict, "summary": dict, "attention": bool}


def report_problem(report: Any) -> str | None:
    """Why this is not a report of `saas-domains status --save-report`, or None."""
    if not isinstance(report, dict):
        return "it is not a JSON object"
    for key, kind in _REPORT_KEYS.items():
        if not isinstance(report.get(key), kind):
            return f"`{key}` is missing or not a {kind.__name__}"
    for key in ("hostnames", "missing_in_cloudflare", "not_in_customers_file"):
        if not all(isinstance(row, dict) and isinstance(row.get("hostname"), str) for row in report[key]):
            return f"an item of `{key}` has no hostname"
    if any(row.get("level") not in (LIVE, WAITING, PROBLEM) for row in report["hostnames"]):
        return "a hostname has no level (live, waiting or problem)"
    if report["fallback_origin"].get("level") not in (LIVE, WAITING, PROBLEM):
        return "`fallback_origin` has no level"
    return None


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ReportError(f"cannot read {what} {path}: {getattr(err, 'strerror', None) or err}") from None
    except ValueError as err:
        raise ReportError(f"{what} {path} is not JSON ({err})") from None


def load_report(path: Path) -> dict[str, Any]:
    """The current report; anything else is an error naming the file."""
    report = read_json(path, "the report")
    problem = report_problem(report)
    if problem:
        raise ReportError(f"the report {path} is not a report of `saas-domains status --save-report`: {problem}")
    if report.get("customer"):
        raise ReportError(f"the report {path} covers customer {report['customer']!r} only; the status issue needs "
                          "the whole zone (run `saas-domains status` without --customer)")
    return report


@dataclass(frozen=True)
class Previous:
    """What the last run left: its report (None: nothing to compare with, and why) and its issue number."""

    report: dict[str, Any] | None
    issue_number: int | None
    why_none: str = ""


def load_previous(path: Path | None, zone: str) -> Previous:
    """The previous state, never an error: a missing, unreadable or foreign state is treated as none, said so."""
    if path is None or not path.exists():
        return Previous(None, None, "no previous report (the first run, or the last run's state has expired)")
    try:
        state = read_json(path, "the previous state")
    except ReportError as err:
        return Previous(None, None, f"the previous state could not be used ({err})")
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return Previous(None, None, f"the previous state {path} is not a version-{STATE_VERSION} state file")
    issue = state.get("issue")
    number = issue.get("number") if isinstance(issue, dict) else None
    number = number if isinstance(number, int) and not isinstance(number, bool) and number > 0 else None
    report = state.get("report")
    problem = report_problem(report)
    if problem:
        return Previous(None, number, f"the previous state's report could not be used ({problem})")
    if report["zone"] != zone:
        return Previous(None, None, f"the previous report is for zone {code(report['zone'])}, this one for "
                                    f"{code(zone)}: nothing to compare with")
    return Previous(report, number)


def state_document(report: Mapping[str, Any], issue_number: int | None) -> dict[str, Any]:
    return {"version": STATE_VERSION, "report": report,
            "issue": {"number": issue_number} if issue_number is not None else None}


# -- news -----------------------------------------------------------------------------------------------


def hostname_states(report: Mapping[str, Any]) -> dict[str, str]:
    """Every hostname of the report with where it stands: live, waiting, problem, or one of the drifts."""
    states = {row["hostname"]: row["level"] for row in report["hostnames"]}
    states.update({row["hostname"]: MISSING for row in report["missing_in_cloudflare"]})
    states.update({row["hostname"]: NOT_IN_FILE for row in report["not_in_customers_file"]})
    return states


@dataclass(frozen=True)
class News:
    """What changed between two reports, by hostname (sorted lists)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    became_active: list[str] = field(default_factory=list)
    started_failing: list[str] = field(default_factory=list)
    no_longer_failing: list[str] = field(default_factory=list)
    fallback_stopped: bool = False  # the fallback origin was live and is not now
    fallback_recovered: bool = False

    def counts(self) -> dict[str, int | bool]:
        return {"added": len(self.added), "removed": len(self.removed), "became_active": len(self.became_active),
                "started_failing": len(self.started_failing), "no_longer_failing": len(self.no_longer_failing),
                "fallback_stopped": self.fallback_stopped, "fallback_recovered": self.fallback_recovered}

    @property
    def alarming(self) -> bool:
        """The news worth a notification: something started failing."""
        return bool(self.started_failing) or self.fallback_stopped

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())


def news(previous: Mapping[str, Any], current: Mapping[str, Any]) -> News:
    """What changed, keyed by hostname. A hostname absent before counts as not failing and not live."""
    before, now = hostname_states(previous), hostname_states(current)
    was_failing = {name for name, state in before.items() if state in FAILING}
    failing = {name for name, state in now.items() if state in FAILING}
    origin_before, origin_now = previous["fallback_origin"]["level"], current["fallback_origin"]["level"]
    return News(
        added=sorted(now.keys() - before.keys()),
        removed=sorted(before.keys() - now.keys()),
        became_active=sorted(n for n in before.keys() & now.keys() if before[n] != LIVE and now[n] == LIVE),
        started_failing=sorted(failing - was_failing),
        no_longer_failing=sorted(n for n in was_failing & now.keys() if n not in failing),
        fallback_stopped=origin_before == LIVE and origin_now != LIVE,
        fallback_recovered=origin_before != LIVE and origin_now == LIVE,
    )


def named(hostnames: Sequence[str], limit: int = NEWS_ITEMS) -> str:
    """`a`, `b`, `c` and 12 more: code spans, so API text stays inert."""
    shown = ", ".join(code(name) for name in hostnames[:limit])
    rest = len(hostnames) - min(len(hostnames), limit)
    if not shown:
        return f"{rest:,} hostnames" if rest else ""
    return f"{shown} and {rest:,} more" if rest else shown


def news_lines(change: News | None, why_none: str, *, limit: int = NEWS_ITEMS) -> list[str]:
    if change is None:
        return [f"Nothing to compare with yet: {why_none}. The next run reports what changed since this one."]
    if change.empty:
        return ["Nothing changed since the previous report."]
    lines = []
    if change.fallback_stopped:
        lines.append(f"- {LEVEL_MARKS[PROBLEM]} **The fallback origin stopped being active**: no customer "
                     "hostname is served until it is (see below).")
    if change.fallback_recovered:
        lines.append(f"- {LEVEL_MARKS[LIVE]} **The fallback origin is active again.**")
    for mark, label, names in ((LEVEL_MARKS[PROBLEM], "Started failing", change.started_failing),
                               (LEVEL_MARKS[LIVE], "Became active", change.became_active),
                               ("➕", "Added", change.added),
                               ("✅", "No longer failing", change.no_longer_failing),
                               ("➖", "Removed", change.removed)):
        if names:
            lines.append(f"- {mark} **{label} ({len(names):,}):** {named(names, limit)}")
    return lines


# -- the body -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Where this run can be seen (GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID), if known."""

    url: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Run:
        server, repo, run_id = (environ.get(k, "").strip() for k in
                                ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
        if server and repo and run_id.isdigit():
            return cls(f"{server.rstrip('/')}/{repo}/actions/runs/{run_id}")
        return cls(None)


def body(report: Mapping[str, Any], previous: Previous, change: News | None, run: Run, *,
         max_rows: int = DEFAULT_MAX_ROWS, news_limit: int = NEWS_ITEMS) -> str:
    by = f"the [status workflow]({run.url})" if run.url else "`saas-domains status-issue`"
    since = (f"previous report {code(previous.report['generated_at'])}" if previous.report
             else "no previous report")
    lines = [MARKER, f"Updated by {by} at {code(report['generated_at'])}; {since}.", "",
             "## What changed since the previous report", ""]
    lines += news_lines(change, previous.why_none, limit=news_limit)
    lines += ["", render_markdown(report, heading="##", max_rows=max_rows)]
    return "\n".join(lines) + "\n"


def bounded_body(report: Mapping[str, Any], previous: Previous, change: News | None, run: Run, *,
                 max_rows: int = DEFAULT_MAX_ROWS, limit: int = MAX_BODY_CHARACTERS) -> str:
    """The body, its tables and lists shrunk until it fits GitHub's limit (a hard guard)."""
    rows = max_rows
    for news_limit in (NEWS_ITEMS, 10, 0):
        rows = max_rows
        while True:
            text = body(report, previous, change, run, max_rows=rows, news_limit=news_limit)
            if len(text) <= limit:
                return text
            if rows == 0:
                break
            rows //= 2
    fallback = "\n".join([MARKER, f"Updated at {code(report['generated_at'])}. The report is too large for an "
                                  "issue: see the job summary of the status workflow, or run `saas-domains status`.",
                          ""])
    return fallback[:limit]


def comment(change: News, run: Run) -> str:
    """The one notification for news that matters: what started failing."""
    lines = []
    if change.fallback_stopped:
        lines.append(f"{LEVEL_MARKS[PROBLEM]} The fallback origin stopped being active: no customer hostname is "
                     "served until it is.")
    if change.started_failing:
        lines.append(f"{LEVEL_MARKS[PROBLEM]} {len(change.started_failing):,} hostname"
                     f"{'s' if len(change.started_failing) != 1 else ''} started failing since the previous report: "
                     f"{named(change.started_failing)}.")
    where = f" ([run]({run.url}))" if run.url else ""
    lines.append(f"The issue body above says what to do for each{where}.")
    return "\n\n".join(lines) + "\n"


# -- what to do -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One write to GitHub. `number` None for a create: the issue does not exist yet."""

    method: str
    operation: str  # the OpenAPI operationId
    number: int | None
    payload: dict[str, Any]

    def path(self, api: GitHubApi) -> str:
        if self.operation == "issues/create-comment":
            return api.issue_path(self.number, "/comments")
        return api.issue_path(self.number)

    def describe(self, api: GitHubApi) -> dict[str, Any]:
        """For the dry run: method, path, the body's keys and the state it sets (never the whole body)."""
        described = {"method": self.method, "path": self.path(api), "operation": self.operation,
                     "keys": sorted(self.payload)}
        for key in ("state", "state_reason", "title"):
            if key in self.payload:
                described[key] = self.payload[key]
        if "body" in self.payload:
            described["body_characters"] = len(self.payload["body"])
        return described


def plan(issue: Mapping[str, Any] | None, report: Mapping[str, Any], new_body: str, change: News | None,
         run: Run, *, title: str = TITLE) -> tuple[str, list[Call]]:
    """(what happens, in words; the writes). `issue` is ours (title and marker checked) or None."""
    attention = bool(report["attention"])
    alarming = change is not None and change.alarming
    if issue is None:
        if not attention:
            return "all well and no issue: nothing to do", []
        return "something needs attention: open the issue", [Call("POST", "issues/create", None,
                                                                 {"title": title, "body": new_body})]
    number, is_open = int(issue["number"]), issue.get("state") == "open"
    notify = [Call("POST", "issues/create-comment", number, {"body": comment(change, run)})] if alarming else []
    if attention and not is_open:
        return (f"something needs attention: reopen #{number}",
                [Call("PATCH", "issues/update", number, {"body": new_body, "state": "open",
                                                         "state_reason": "reopened"}), *notify])
    if attention:
        update = [] if issue.get("body") == new_body else [Call("PATCH", "issues/update", number, {"body": new_body})]
        words = f"something needs attention: update #{number}" if update else f"#{number} is up to date"
        return words, [*update, *notify]
    if is_open:
        return (f"all well: update and close #{number}",
                [Call("PATCH", "issues/update", number, {"body": new_body, "state": "closed",
                                                         "state_reason": "completed"})])
    return f"all well and #{number} is closed: nothing to do", []


# -- finding the issue (reads GitHub) ----------------------------------------------------------------------


def is_ours(issue: Any, title: str) -> bool:
    return (isinstance(issue, dict) and "pull_request" not in issue and issue.get("title") == title
            and MARKER in str(issue.get("body") or "") and isinstance(issue.get("number"), int))


@dataclass(frozen=True)
class Found:
    issue: dict[str, Any] | None
    how: str  # "number", "listing" or "none"
    pages: int = 0
    others: list[int] = field(default_factory=list)  # further issues with our title and marker, ignored


def find_issue(api: GitHubApi, title: str, number: int | None, *, max_pages: int = MAX_LISTING_PAGES) -> Found:
    """The previous state's issue number first (accepted only with our title and marker); otherwise a bounded
    listing, most recently updated first, that stops at an empty, short or repeated page."""
    if number is not None:
        issue = api.get_issue(number)
        if is_ours(issue, title):
            return Found(issue, "number")
    matches: list[dict[str, Any]] = []
    seen_pages: set[tuple[int, ...]] = set()
    pages = 0
    for page in range(1, max_pages + 1):
        items = api.list_issues(page)
        pages = page
        ids = tuple(sorted(item.get("id") or item.get("number") or 0 for item in items))
        if not items or ids in seen_pages:
            break
        seen_pages.add(ids)
        matches += [item for item in items if is_ours(item, title)
                    and item["number"] not in {m["number"] for m in matches}]
        if len(items) < PER_PAGE:
            break
    if not matches:
        return Found(None, "none", pages)
    chosen = next((m for m in matches if m.get("state") == "open"), matches[0])
    return Found(chosen, "listing", pages, [m["number"] for m in matches if m is not chosen])


# -- doing it -------------------------------------------------------------------------------------------


def perform(api: GitHubApi, calls: Iterable[Call], issue: Mapping[str, Any] | None, *, dry_run: bool,
            on_call: Callable[[Call], None] | None = None) -> tuple[int | None, str | None]:
    """Make the writes in order; the issue's number and address afterwards (a create gives them)."""
    number = int(issue["number"]) if issue else None
    url = issue.get("html_url") if issue else None
    for call in calls:
        if on_call:
            on_call(call)
        if dry_run:
            continue
        if call.operation == "issues/create":
            created = api.create_issue(call.payload["title"], call.payload["body"])
            number, url = created["number"], created.get("html_url")
        elif call.operation == "issues/update":
            updated = api.update_issue(call.number, call.payload)
            url = updated.get("html_url") or url
        else:
            api.create_comment(call.number, call.payload["body"])
    return number, url
