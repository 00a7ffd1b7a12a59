"""`saas-domains status-issue`: keep one GitHub issue in step with the status report.

It reads the report `saas-domains status --save-report` wrote (it never talks to Cloudflare, so the
Cloudflare token and the GitHub token live in different workflow steps), compares it with the
previous run's state, and opens, updates, reopens or closes the issue "Custom hostname status";
one comment when hostnames started failing, since editing a body notifies nobody.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from infra.cli import status_codes
from infra.cli.errors import UsageError
from infra.cli.markdown import DEFAULT_MAX_ROWS, bounded_issue_body, failing_comment
from infra.cli.terminal import JSON, TEXT, add_format_arguments, plural, print_json
from infra.clients import network_limits
from infra.clients.github import API_URL_VARIABLE, TOKEN_VARIABLE, GitHubApi
from infra.operations.files import write_json_document
from infra.operations.status_changes import changes_between
from infra.operations.status_issue import TITLE, FoundIssue, IssueWrite, WorkflowRun, update_status_issue
from infra.operations.status_reports import load_previous, load_report, state_document

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status-issue", help="open, update or close the GitHub issue \"Custom hostname status\" from a status report",
        description="Read the JSON report of `saas-domains status --save-report` and keep one GitHub issue up to "
                    "date: opened when something needs attention, its body updated in place, closed when all is "
                    "well. The body says which hostnames became active, started failing or were added since the "
                    "previous report (--previous, the state the last run saved with --save-state); one comment "
                    "is posted when hostnames started failing. No Cloudflare access. Exit "
                    f"{status_codes.OK} done, {status_codes.CANNOT_RUN} cannot run (no {TOKEN_VARIABLE}, a bad "
                    f"report file, the GitHub API refused or kept failing; then no state is saved). The token comes "
                    f"from {TOKEN_VARIABLE}; {API_URL_VARIABLE} overrides the API address. "
                    f"{network_limits.short_help()}")
    parser.add_argument("--report", type=Path, required=True, metavar="REPORT.json",
                        help="the report `saas-domains status --save-report` wrote (the whole zone)")
    parser.add_argument("--previous", type=Path, metavar="STATE.json",
                        help="the state the previous run saved; missing or unusable means nothing to compare with")
    parser.add_argument("--save-state", type=Path, metavar="STATE.json",
                        help="write this run's state (the report and the issue number) for the next run")
    parser.add_argument("--repo", metavar="OWNER/NAME", default=None,
                        help="the repository of the issue (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--title", default=TITLE, help=f"the issue's title (default: {TITLE!r})")
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, metavar="N",
                        help=f"at most N hostnames in the attention table (default: {DEFAULT_MAX_ROWS}); fewer when "
                             "the body would exceed GitHub's 65,536 characters")
    parser.add_argument("--dry-run", action="store_true",
                        help="read GitHub, write nothing: print the calls it would make")
    add_format_arguments(parser, formats=(TEXT, JSON), purposes="what happened: text for a person or a log, json "
                                                                "for machines")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    repo = (args.repo or os.environ.get("GITHUB_REPOSITORY") or "").strip()
    if not repo:
        raise UsageError("no repository: pass --repo OWNER/NAME (in a workflow GITHUB_REPOSITORY is set)")
    if not _REPO.match(repo):
        raise UsageError(f"--repo must be OWNER/NAME, got {repo!r}")
    if args.max_rows < 0:
        raise UsageError(f"--max-rows must be 0 or more, got {args.max_rows}")
    if not args.title.strip():
        raise UsageError("--title must not be empty")
    report = load_report(args.report)
    previous = load_previous(args.previous, report["zone"])
    changes = changes_between(previous.report, report) if previous.report is not None else None
    run_link = WorkflowRun.from_environment(os.environ)
    new_body = bounded_issue_body(report, previous, changes, run_link, max_rows=args.max_rows)
    comment = failing_comment(changes, run_link) if changes is not None and changes.alarming else None

    github = args.clients.github(repo, notify=lambda message: print(message, file=sys.stderr, flush=True))
    lines: list[str] = []
    outcome = update_status_issue(github, report, new_body, comment, title=args.title,
                                  issue_number=previous.issue_number, dry_run=args.dry_run,
                                  on_write=lambda write: lines.append(_said(write, github, args.dry_run)))
    if args.save_state is not None:
        write_json_document(args.save_state, state_document(report, outcome.number), "the state")
    found = outcome.found
    result = {"repo": repo, "dry_run": args.dry_run, "found_by": found.how, "listing_pages": found.pages,
              "ignored_duplicates": found.others, "summary": outcome.summary,
              "issue": {"number": outcome.number, "url": outcome.url} if outcome.number is not None else None,
              "attention": report["attention"], "compared_with_previous": previous.report is not None,
              "news": changes.counts() if changes else None,
              "calls": [write.describe(github) for write in outcome.writes]}
    if args.format == JSON:
        print_json(result)
    else:
        _print_text(result, found, previous.why_none, lines, args.dry_run)
    return status_codes.OK


def _said(write: IssueWrite, api: GitHubApi, dry_run: bool) -> str:
    described = write.describe(api)
    extras = ", ".join(f"{key}={described[key]}" for key in ("state", "state_reason") if key in described)
    verb = "would call" if dry_run else "called"
    return (f"  {verb} {described['method']} {described['path']} ({described['operation']}; body keys: "
            f"{', '.join(described['keys'])}{'; ' + extras if extras else ''})")


def _print_text(result: dict[str, Any], found: FoundIssue, why_none: str, lines: list[str], dry_run: bool) -> None:
    where = {"number": "by the previous state's number", "listing": f"by listing ({plural(found.pages, 'page')})",
             "none": f"none found ({plural(found.pages, 'listing page')} read)"}[found.how]
    issue = f"#{found.issue['number']} ({found.issue.get('state')})" if found.issue else "no issue"
    print(f"saas-domains status-issue: {result['repo']}: {issue}, {where}")
    if found.others:
        print(f"  ignored: other issues with the same title and marker: {', '.join(f'#{n}' for n in found.others)}")
    if result["news"] is None:
        print(f"  nothing to compare with: {why_none}")
    else:
        counts = result["news"]
        print("  since the previous report: " + ", ".join(
            f"{counts[key]} {key.replace('_', ' ')}" for key in ("started_failing", "became_active", "added",
                                                                  "no_longer_failing", "removed")))
    print(f"  {'dry run: ' if dry_run else ''}{result['summary']}")
    for line in lines:
        print(line)
    if result["issue"] and result["issue"]["url"] and not dry_run:
        print(f"  {result['issue']['url']}")
