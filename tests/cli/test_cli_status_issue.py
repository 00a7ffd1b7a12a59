"""`saas-domains status-issue` against the local GitHub: the recorded calls of each run, dry runs, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.clients import github as github_api
from infra.operations.status_issue import MARKER, TITLE
from tests.cli.helpers import run_cli
from tests.fakes.cloudflare import custom_hostname
from tests.fakes.github import OWNER, REPO, FakeGitHub, running
from tests.fakes.markdown import tables
from tests.fakes.status_reports import report_of

# fixtures: cloudflare_api (the local Cloudflare API), project (a copy of the project)
pytest_plugins = ["tests.fakes.ops_fixtures"]

ISSUES = f"/repos/{OWNER}/{REPO}/issues"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    waits: list[float] = []
    monkeypatch.setattr(github_api, "sleep", waits.append)
    with running(FakeGitHub()) as fake:
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
        monkeypatch.setenv("GITHUB_REPOSITORY", f"{OWNER}/{REPO}")
        monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
        monkeypatch.setenv("GITHUB_RUN_ID", "4242")
        fake.waits = waits
        yield fake


class Runs:
    """Successive runs as the workflow makes them: each reads the state the previous one saved."""

    def __init__(self, directory: Path, capsys: pytest.CaptureFixture) -> None:
        self.directory, self.capsys, self.count = directory, capsys, 0

    def run(self, report: dict, *extra: str, previous: bool = True):
        self.count += 1
        report_path = self.directory / f"report-{self.count}.json"
        report_path.write_text(json.dumps(report))
        args = ["status-issue", "--report", str(report_path), "--save-state", str(self.state(self.count))]
        if previous:
            args += ["--previous", str(self.state(self.count - 1))]
        return run_cli(self.capsys, *args, *extra)

    def state(self, number: int) -> Path:
        return self.directory / f"state-{number}.json"


@pytest.fixture
def runs(tmp_path, capsys) -> Runs:
    return Runs(tmp_path, capsys)


def at(hour: int, levels: dict, **options) -> dict:
    return report_of(levels, generated_at=f"2026-03-01T{hour:02}:00:00Z", **options)


def test_the_issue_lives_through_a_zone_going_wrong_and_right_again(github, runs):
    # First run, something needs attention, no previous state: the issue is opened.
    result = runs.run(at(1, {"a.example.com": "waiting", "b.example.com": "problem"}))
    assert result.code == 0, result.err
    assert github.calls() == [("GET", ISSUES), ("POST", ISSUES)]
    issue = github.issues[1]
    assert issue["title"] == TITLE and issue["body"].startswith(MARKER + "\n")
    assert "Nothing to compare with yet: no previous report" in issue["body"]
    assert "[status workflow](https://github.com/mailito/saas-domains/actions/runs/4242)" in issue["body"]
    assert json.loads(runs.state(1).read_text())["issue"] == {"number": 1}
    assert result.out.splitlines()[0] == "saas-domains status-issue: mailito/saas-domains: no issue, none found " \
                                         "(1 listing page read)"

    # An hour later a hostname starts failing, one becomes active: the body is updated, one comment notifies.
    github.requests.clear()
    result = runs.run(at(2, {"a.example.com": "live", "b.example.com": "problem", "c.example.com": "problem"}))
    assert github.calls() == [("GET", f"{ISSUES}/1"), ("PATCH", f"{ISSUES}/1"), ("POST", f"{ISSUES}/1/comments")]
    assert github.requests[1].body.keys() == {"body"}
    assert "- 🔴 **Started failing (1):** `c.example.com`" in issue["body"]
    assert "- 🟢 **Became active (1):** `a.example.com`" in issue["body"]
    assert "previous report `2026-03-01T01:00:00Z`" in issue["body"]
    (note,) = github.comments
    assert note["body"].startswith("🔴 1 hostname started failing since the previous report: `c.example.com`.")
    assert "  called POST /repos/mailito/saas-domains/issues/1/comments (issues/create-comment; body keys: body)" \
        in result.out.splitlines()

    # Nothing changes but the time: the body changes (its times), no comment.
    github.requests.clear()
    runs.run(at(3, {"a.example.com": "live", "b.example.com": "problem", "c.example.com": "problem"}))
    assert github.calls() == [("GET", f"{ISSUES}/1"), ("PATCH", f"{ISSUES}/1")]
    assert "Nothing changed since the previous report." in issue["body"] and len(github.comments) == 1

    # All well: the body says so and the issue is closed as completed.
    github.requests.clear()
    runs.run(at(4, {"a.example.com": "live", "b.example.com": "live", "c.example.com": "live"}))
    assert github.calls() == [("GET", f"{ISSUES}/1"), ("PATCH", f"{ISSUES}/1")]
    assert github.requests[1].body["state"] == "closed" and github.requests[1].body["state_reason"] == "completed"
    assert issue["state"] == "closed" and "nothing needs attention" in issue["body"]

    # Still all well: the closed issue is left alone.
    github.requests.clear()
    result = runs.run(at(5, {"a.example.com": "live", "b.example.com": "live", "c.example.com": "live"}))
    assert github.calls() == [("GET", f"{ISSUES}/1")]
    assert "all well and #1 is closed: nothing to do" in result.out

    # It goes wrong again: the same issue is reopened with the new body, and the failure notifies.
    github.requests.clear()
    runs.run(at(6, {"a.example.com": "problem", "b.example.com": "live", "c.example.com": "live"}))
    assert github.calls() == [("GET", f"{ISSUES}/1"), ("PATCH", f"{ISSUES}/1"), ("POST", f"{ISSUES}/1/comments")]
    assert github.requests[1].body.keys() == {"body", "state", "state_reason"}
    assert (issue["state"], issue["state_reason"]) == ("open", "reopened")
    assert len(github.issues) == 1 and github.spec_violations == []


def test_an_unchanged_body_is_not_written_again(github, runs):
    report = at(1, {"b.example.com": "problem"})
    runs.run(report)
    runs.run(report)  # now with a previous report to compare with: "nothing changed"
    github.requests.clear()
    result = runs.run(report)  # the same report again: the same body
    assert github.calls() == [("GET", f"{ISSUES}/1")]
    assert "#1 is up to date" in result.out


def test_all_well_on_the_first_run_writes_nothing(github, runs):
    result = runs.run(at(1, {"a.example.com": "live"}))
    assert result.code == 0 and [m for m, _ in github.calls()] == ["GET"]
    assert json.loads(runs.state(1).read_text())["issue"] is None


def test_without_the_state_the_issue_is_found_by_listing_not_duplicated(github, runs):
    github.add_issue("Something else", "hello")
    github.add_issue(TITLE, f"{MARKER}\nold body", state="closed")
    result = runs.run(at(1, {"b.example.com": "problem"}), previous=False)  # the artifact expired
    assert github.calls() == [("GET", ISSUES), ("PATCH", f"{ISSUES}/2")]
    assert github.issues[2]["state"] == "open" and len(github.issues) == 2
    assert "#2 (closed), by listing (1 page)" in result.out


def test_a_state_for_another_zone_is_ignored_and_said(github, runs):
    runs.run(at(1, {"b.example.com": "problem"}, zone="other.example"))
    result = runs.run(at(2, {"b.example.com": "problem"}))
    assert "nothing to compare with: the previous report is for zone `other.example`" in result.out
    assert "Nothing to compare with yet: the previous report is for zone `other.example`" in github.issues[1]["body"]
    assert github.calls()[-2:] == [("GET", ISSUES), ("PATCH", f"{ISSUES}/1")]  # found by listing, not by number


def test_the_dry_run_reads_writes_nothing_and_prints_the_calls(github, runs):
    github.add_issue(TITLE, f"{MARKER}\nold", number=7)
    result = runs.run(at(1, {"b.example.com": "live"}), "--dry-run")
    assert result.code == 0 and [m for m, _ in github.calls()] == ["GET"]
    assert github.issues[7]["state"] == "open" and github.issues[7]["body"] == f"{MARKER}\nold"
    assert "  dry run: all well: update and close #7" in result.out
    assert ("  would call PATCH /repos/mailito/saas-domains/issues/7 (issues/update; body keys: body, state, "
            "state_reason; state=closed, state_reason=completed)") in result.out

    result = runs.run(at(2, {"b.example.com": "problem"}), "--dry-run", "--json")
    printed = json.loads(result.out)
    assert printed["dry_run"] is True and printed["found_by"] == "number"  # the dry run's state kept #7
    assert [(c["method"], c["path"], c["keys"]) for c in printed["calls"]] == [
        ("PATCH", f"{ISSUES}/7", ["body"]), ("POST", f"{ISSUES}/7/comments", ["body"])]  # b started failing
    assert [m for m, _ in github.calls()] == ["GET", "GET"] and printed["issue"]["number"] == 7


def test_the_body_parses_as_markdown_with_the_attention_table(github, runs):
    runs.run(at(1, {"x.example.com": "problem", "y.example.com": "live"}, missing=["m.example.com"]))
    counts, attention = tables(github.issues[1]["body"])
    assert [row[0].code for row in attention[1:]] == [("x.example.com",), ("m.example.com",)]
    assert counts[1][1].text == "1"


def test_without_a_token_it_says_how_to_set_one(github, runs, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    result = runs.run(at(1, {"b.example.com": "problem"}))
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("saas-domains status-issue: GITHUB_TOKEN is not set: set GITHUB_TOKEN to a token "
                                 "that may read and write issues")
    assert "`GITHUB_TOKEN: ${{ github.token }}` with `permissions: issues: write`" in result.err
    assert github.requests == []


@pytest.mark.parametrize("content, message", [
    (None, "the report {path} does not exist"),
    ("{not json", "the report {path} is not JSON"),
    ("[]", "the report {path} is not a report of `saas-domains status --save-report`: it is not a JSON object"),
    (json.dumps({"zone": "mailito.com"}), "`generated_at` is missing or not a str"),
])
def test_a_bad_report_is_a_clear_error_naming_the_file(github, tmp_path, capsys, content, message):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    result = run_cli(capsys, "status-issue", "--report", str(path))
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.startswith("saas-domains status-issue: ")
    assert message.format(path=path) in result.err
    assert github.requests == []


def test_a_report_for_one_customer_is_refused(github, runs):
    result = runs.run({**at(1, {"b.example.com": "problem"}), "customer": "acme"})
    assert result.code == 2 and "covers customer 'acme' only" in result.err


def test_rate_limits_are_waited_out_then_a_persistent_failure_exits_2(github, runs):
    github.answer_first(r"/issues$", 429, headers={"Retry-After": "1"})
    github.answer_first(r"/issues$", 500)
    result = runs.run(at(1, {"b.example.com": "problem"}))
    assert result.code == 0 and github.waits == [1.0, 2.0]
    assert result.err.splitlines() == ["GitHub: rate limited (429); waiting 1 s, attempt 2 of 4",
                                       "GitHub: HTTP 500 from GitHub; waiting 2 s, attempt 3 of 4"]

    github.answer_first(r"/issues/1$", 502, times=10)
    result = runs.run(at(2, {"b.example.com": "problem"}))
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.splitlines()[-1] == ("saas-domains status-issue: HTTP 502 from GitHub: still failing after 4 "
                                           "attempts (GET /repos/mailito/saas-domains/issues/1); try again later")
    assert not runs.state(2).exists()  # no state unless the issue step succeeded


def test_a_wrong_repository_is_named(github, runs):
    result = runs.run(at(1, {"b.example.com": "problem"}), "--repo", "mailito/typo")
    assert result.code == 2
    assert ("the repository mailito/typo does not exist or the token cannot see it; check --repo (default "
            "$GITHUB_REPOSITORY)") in result.err
    assert run_cli(runs.capsys, "status-issue", "--report", "x.json", "--repo", "not a repo").code == 2


def test_status_and_status_issue_work_together(project, cloudflare_api, github, capsys):
    """The real `status --save-report` output is what `status-issue` reads."""
    cloudflare_api.fallback = {"origin": "proxy-fallback.mailito.com", "status": "active", "errors": []}
    cloudflare_api.hostnames = [custom_hostname("mail.mkdev.me"),
                                custom_hostname("mail.acme-corp.com", status="moved")]
    assert run_cli(capsys, "status", "--format", "markdown", "--save-report", "report.json").code == 1
    result = run_cli(capsys, "status-issue", "--report", "report.json", "--save-state", "state.json")
    assert result.code == 0, result.err
    body = github.issues[1]["body"]
    assert "`mail.acme-corp.com`" in body and "`post.globex.io`" in body  # a problem, and missing in Cloudflare
    cloudflare_api.hostnames = [custom_hostname(h) for h in ("mail.mkdev.me", "mail.acme-corp.com",
                                                             "newsletter.acme-corp.com", "post.globex.io")]
    assert run_cli(capsys, "status", "--format", "json", "--save-report", "report.json").code == 0
    result = run_cli(capsys, "status-issue", "--report", "report.json", "--previous", "state.json")
    assert result.code == 0 and github.issues[1]["state"] == "closed"
    assert ("- 🟢 **Became active (3):** `mail.acme-corp.com`, `newsletter.acme-corp.com`, `post.globex.io`"
            in github.issues[1]["body"])  # moved → live, and two missing in Cloudflare → live
