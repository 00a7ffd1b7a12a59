"""`status-issue` against a GitHub API that misbehaves on the first request (GET the issue), a middle one
(PATCH its body) and the last (POST the comment): exit 2 in bounded time, a clear message, no state saved,
and a POST never repeated once it may have taken effect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.clients import github as github_api
from infra.operations.status_issue import MARKER, TITLE
from infra.operations.status_reports import state_document
from tests.fakes.faults import Fault, faulty_github
from tests.fakes.github import OWNER, REPO, FakeGitHub
from tests.fakes.status_reports import report_of
from tests.network.matrix import MARGIN, POSITIONS, REQUEST, Files, assert_failed_cleanly, failures, lowered, timed

ISSUE = f"/repos/{OWNER}/{REPO}/issues/1"
DOING = {"first": f"GET {ISSUE}", "middle": f"PATCH {ISSUE}", "last": f"POST {ISSUE}/comments"}
AT = {"first": 1, "middle": 2, "last": 3}
STATUS_ANSWERS = ("html-error",)  # an HTTP status: said as "HTTP 502 from GitHub"
RETRIED = ("429", "503", "html-error", "maintenance", "truncated", "reset", "trickle")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Issue #1 is open and all was well; now a hostname fails: GET #1, PATCH its body, POST one comment."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.json").write_text(json.dumps(report_of({"a.example.com": "problem"},
                                                               generated_at="2026-03-01T11:00:00Z")))
    previous = state_document(report_of({"a.example.com": "live"}), 1)
    (tmp_path / "previous.json").write_text(json.dumps(previous))
    (tmp_path / "state.json").write_text('{"the": "state of an earlier run"}\n')
    monkeypatch.setenv("GITHUB_TOKEN", FakeGitHub().token)
    monkeypatch.setenv("GITHUB_REPOSITORY", f"{OWNER}/{REPO}")
    for variable in ("GITHUB_SERVER_URL", "GITHUB_RUN_ID"):
        monkeypatch.delenv(variable, raising=False)
    yield tmp_path


def issue_tracker() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_issue(TITLE, f"{MARKER}\nall was well", number=1)
    return fake


ARGV = ("status-issue", "--report", "report.json", "--previous", "previous.json", "--save-state", "state.json")
FILES = ("report.json", "previous.json", "state.json")


@pytest.mark.parametrize("kind, where", failures())
def test_a_fault_ends_status_issue_in_time_with_a_clear_message_and_no_state(kind, where, workspace, monkeypatch,
                                                                             capsys):
    lowered(monkeypatch, command=0.9)  # below the first backoff (1 s): nothing is retried
    files = Files.of(workspace, *FILES)
    fake = issue_tracker()
    with faulty_github(fake, Fault(kind, at=AT[where])) as faults:
        monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
        run = timed(capsys, *ARGV)
    service = "from GitHub" if kind in STATUS_ANSWERS else "GitHub API"
    message = assert_failed_cleanly(run, kind, service=service, doing=DOING[where], files=files)
    if where == "last" and kind not in ("refused", "tls", "dns"):
        assert len(fake.comments) == 1  # it was posted once, and never again
        if kind != "not-object":  # an answer, only not the promised one: no question of a retry
            assert "not retried, since GitHub may have done it already" in message
    if kind not in ("refused", "tls", "dns"):
        assert faults.spoiled == [(AT[where], kind)], message


@pytest.mark.parametrize("kind", RETRIED)
@pytest.mark.parametrize("where", POSITIONS[:2])
def test_a_transient_fault_on_a_read_or_an_edit_is_retried_and_the_run_completes(kind, where, workspace,
                                                                                 monkeypatch, capsys):
    lowered(monkeypatch, command=30)
    waits: list[float] = []
    monkeypatch.setattr(github_api, "sleep", waits.append)
    fake = issue_tracker()
    with faulty_github(fake, Fault(kind, at=AT[where], times=1)) as faults:
        monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
        run = timed(capsys, *ARGV)
    assert run.result.code == 0, run.result.err
    assert faults.seen == 4 and len(waits) == 1 and "attempt 2 of 4" in run.result.err
    assert len(fake.comments) == 1 and "problem" in fake.issues[1]["body"]
    assert json.loads((workspace / "state.json").read_text())["issue"] == {"number": 1}
    assert run.elapsed < (REQUEST if kind == "trickle" else 0) + MARGIN


@pytest.mark.parametrize("kind", [k for k in RETRIED if k != "429"])
def test_a_post_that_may_have_taken_effect_is_never_repeated(kind, workspace, monkeypatch, capsys):
    """Even with all the time in the world: after a 5xx or a spoiled answer, GitHub may have posted the comment."""
    lowered(monkeypatch, command=30)
    monkeypatch.setattr(github_api, "sleep", lambda seconds: None)
    files = Files.of(workspace, "state.json")
    fake = issue_tracker()
    with faulty_github(fake, Fault(kind, at=3, times=1)) as faults:
        monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
        run = timed(capsys, *ARGV)
    assert run.result.code == 2 and "Traceback" not in run.result.err
    assert "not retried, since GitHub may have done it already; try again later" in run.result.err
    assert faults.seen == 3 and len(fake.comments) == 1
    assert files.untouched()


def test_a_rate_limited_post_is_repeated_since_github_refused_it_unprocessed(workspace, monkeypatch, capsys):
    monkeypatch.setattr(github_api, "sleep", lambda seconds: None)
    fake = issue_tracker()
    fake.answer_first(r"/comments$", 429, method="POST", headers={"Retry-After": "0"})  # refused before anything
    with faulty_github(fake):
        monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
        run = timed(capsys, *ARGV)
    assert run.result.code == 0, run.result.err
    assert len(fake.comments) == 1 and [r.method for r in fake.requests] == ["GET", "PATCH", "POST", "POST"]


def test_a_post_that_never_left_is_not_done_and_says_so(workspace, monkeypatch, capsys):
    """Refused on connecting: nothing was sent, so no comment exists; the message says where it stopped."""
    lowered(monkeypatch)
    fake = issue_tracker()
    with faulty_github(fake, Fault("refused", at=3)):
        monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
        run = timed(capsys, *ARGV)
    assert run.result.code == 2
    assert (f"cannot reach the GitHub API at {fake.base_url} (POST {ISSUE}/comments): the connection was refused; "
            "check GITHUB_API_URL") in run.result.err
    assert fake.comments == [] and "not retried" not in run.result.err
