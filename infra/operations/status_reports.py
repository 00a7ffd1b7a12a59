"""The files between a status run and the status issue: the report `status --save-report` writes, and the
state `status-issue --save-state` keeps for the next run.

The state is a file (kept by the workflow as an artifact, not in the issue):
`{"version": 1, "report": <the JSON report of saas-domains status>, "issue": {"number": N}}`. An issue
body holds at most 65,536 characters; a zone of tens of thousands of hostnames does not fit in it, and
the changes ("which hostnames were added") need every one of them. A report that is not one is an
error naming the file; a previous state that cannot be used is only "nothing to compare with", said so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.errors import OperationError
from infra.operations.status import LIVE, PROBLEM, WAITING

STATE_VERSION = 1


class ReportError(OperationError):
    """A report or state file that cannot be used; the message names the file."""


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
        return Previous(None, None, f"the previous report is for zone {_quoted(report['zone'])}, this one for "
                                    f"{_quoted(zone)}: nothing to compare with")
    return Previous(report, number)


def state_document(report: Mapping[str, Any], issue_number: int | None) -> dict[str, Any]:
    return {"version": STATE_VERSION, "report": report,
            "issue": {"number": issue_number} if issue_number is not None else None}


def _quoted(text: Any) -> str:
    """A value from a file in backticks, on one line and with no backtick of its own: inert in Markdown too."""
    return "`" + " ".join(str(text).replace("`", "'").split()) + "`"
