"""`saas-domains status-issue`: one GitHub issue that says what needs attention in the zone, and what changed.

The operation takes the GitHub client, the report and the previous state (infra/operations/
status_reports.py) and the body the CLI rendered (infra/cli/markdown.py); it finds the issue
(`find_issue`: the state's number first, else a bounded listing), decides the writes (`writes_for`:
open, update, reopen, close, one comment when something started failing) and makes them, or for a
dry run only names them. The issue is ours when it has our title and MARKER in its body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.clients.github import PER_PAGE, GitHubApi

TITLE = "Custom hostname status"
MARKER = "<!-- saas-domains:status-issue -->"
MAX_LISTING_PAGES = 10  # issues/list-for-repo pages read when looking for the issue (1,000 issues)


@dataclass(frozen=True)
class WorkflowRun:
    """Where this run can be seen (GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID), if known."""

    url: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> WorkflowRun:
        server, repo, run_id = (environ.get(k, "").strip() for k in
                                ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
        if server and repo and run_id.isdigit():
            return cls(f"{server.rstrip('/')}/{repo}/actions/runs/{run_id}")
        return cls(None)


@dataclass(frozen=True)
class IssueWrite:
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


def writes_for(issue: Mapping[str, Any] | None, report: Mapping[str, Any], new_body: str,
               failing_comment: str | None, *, title: str = TITLE) -> tuple[str, list[IssueWrite]]:
    """(what happens, in words; the writes). `issue` is ours (title and marker checked) or None;
    `failing_comment` is the one notification, given only when something started failing."""
    attention = bool(report["attention"])
    if issue is None:
        if not attention:
            return "all well and no issue: nothing to do", []
        return "something needs attention: open the issue", [IssueWrite("POST", "issues/create", None,
                                                                       {"title": title, "body": new_body})]
    number, is_open = int(issue["number"]), issue.get("state") == "open"
    notify = ([IssueWrite("POST", "issues/create-comment", number, {"body": failing_comment})]
              if failing_comment else [])
    if attention and not is_open:
        return (f"something needs attention: reopen #{number}",
                [IssueWrite("PATCH", "issues/update", number, {"body": new_body, "state": "open",
                                                               "state_reason": "reopened"}), *notify])
    if attention:
        update = ([] if issue.get("body") == new_body
                  else [IssueWrite("PATCH", "issues/update", number, {"body": new_body})])
        words = f"something needs attention: update #{number}" if update else f"#{number} is up to date"
        return words, [*update, *notify]
    if is_open:
        return (f"all well: update and close #{number}",
                [IssueWrite("PATCH", "issues/update", number, {"body": new_body, "state": "closed",
                                                               "state_reason": "completed"})])
    return f"all well and #{number} is closed: nothing to do", []


def is_ours(issue: Any, title: str) -> bool:
    return (isinstance(issue, dict) and "pull_request" not in issue and issue.get("title") == title
            and MARKER in str(issue.get("body") or "") and isinstance(issue.get("number"), int))


@dataclass(frozen=True)
class FoundIssue:
    """The issue this run keeps (None: there is none yet), and how it was found."""

    issue: dict[str, Any] | None
    how: str  # "number", "listing" or "none"
    pages: int = 0
    others: list[int] = field(default_factory=list)  # further issues with our title and marker, ignored


def find_issue(api: GitHubApi, title: str, number: int | None, *, max_pages: int = MAX_LISTING_PAGES) -> FoundIssue:
    """The previous state's issue number first (accepted only with our title and marker); otherwise a bounded
    listing, most recently updated first, that stops at an empty, short or repeated page."""
    if number is not None:
        issue = api.get_issue(number)
        if is_ours(issue, title):
            return FoundIssue(issue, "number")
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
        return FoundIssue(None, "none", pages)
    chosen = next((m for m in matches if m.get("state") == "open"), matches[0])
    return FoundIssue(chosen, "listing", pages, [m["number"] for m in matches if m is not chosen])


def perform(api: GitHubApi, writes: Iterable[IssueWrite], issue: Mapping[str, Any] | None, *, dry_run: bool,
            on_write: Callable[[IssueWrite], None] | None = None) -> tuple[int | None, str | None]:
    """Make the writes in order; the issue's number and address afterwards (a create gives them)."""
    number = int(issue["number"]) if issue else None
    url = issue.get("html_url") if issue else None
    for call in writes:
        if on_write:
            on_write(call)
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


@dataclass(frozen=True)
class StatusIssueOutcome:
    """What `update_status_issue` found and did: the issue, the writes (made, or for a dry run named)."""

    found: FoundIssue
    summary: str
    writes: list[IssueWrite]
    number: int | None
    url: str | None


def update_status_issue(github: GitHubApi, report: Mapping[str, Any], new_body: str, failing_comment: str | None,
                        *, title: str = TITLE, issue_number: int | None = None, dry_run: bool = False,
                        on_write: Callable[[IssueWrite], None] | None = None) -> StatusIssueOutcome:
    """Bring the issue where the report says it should be: find it, decide the writes, make them."""
    found = find_issue(github, title, issue_number)
    summary, writes = writes_for(found.issue, report, new_body, failing_comment, title=title)
    number, url = perform(github, writes, found.issue, dry_run=dry_run, on_write=on_write)
    return StatusIssueOutcome(found, summary, writes, number, url)
