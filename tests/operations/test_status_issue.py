"""The status issue's logic: news between reports, the body, what to do; finding the issue; the GitHub client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.cli.markdown import bounded_issue_body, failing_comment, issue_body
from infra.clients import github as github_api
from infra.clients.github import GitHubApi, GitHubApiError
from infra.operations.status_changes import StatusChanges, changes_between
from infra.operations.status_issue import MARKER, TITLE, WorkflowRun, find_issue, writes_for
from infra.operations.status_reports import Previous, load_previous, state_document
from tests.fakes.github import OWNER, REPO, TOKEN, FakeGitHub, running
from tests.fakes.markdown import html_or_mentions, tables
from tests.fakes.status_reports import report_of

OUR_MARKUP = {"<sub>", "</sub>", "<br>", MARKER + "\n"}  # what we write ourselves; nothing else may be HTML
RUN = WorkflowRun("https://github.com/mailito/saas-domains/actions/runs/42")
NOTHING = Previous(None, None, "no previous report (the first run, or the last run's state has expired)")


# -- news ------------------------------------------------------------------------------------------------


def test_news_names_every_kind_of_change_by_hostname():
    before = report_of({"a.example.com": "waiting", "b.example.com": "live", "c.example.com": "problem",
                        "d.example.com": "live", "gone.example.com": "live"}, missing=["m.example.com"])
    after = report_of({"a.example.com": "live", "b.example.com": "problem", "c.example.com": "live",
                       "d.example.com": "live", "m.example.com": "live", "new.example.com": "waiting",
                       "newbad.example.com": "problem"}, extra=["hand.example.com"])
    change = changes_between(before, after)
    assert change.became_active == ["a.example.com", "c.example.com", "m.example.com"]  # missing → live counts
    assert change.started_failing == ["b.example.com", "hand.example.com", "newbad.example.com"]
    assert change.added == ["hand.example.com", "new.example.com", "newbad.example.com"]
    assert change.removed == ["gone.example.com"]
    assert change.no_longer_failing == ["c.example.com", "m.example.com"]
    assert change.alarming and not change.fallback_stopped


def test_a_hostname_that_stays_failing_is_no_news():
    before = report_of({"a.example.com": "problem"}, missing=["m.example.com"])
    after = report_of({"a.example.com": "problem", "m.example.com": "problem"})
    change = changes_between(before, after)
    assert change.started_failing == [] and change.empty and not change.alarming


def test_the_fallback_origin_stopping_is_news_worth_a_comment():
    change = changes_between(report_of({"a.example.com": "live"}),
                             report_of({"a.example.com": "live"}, fallback="problem"))
    assert change.fallback_stopped and change.alarming
    back = changes_between(report_of(fallback="waiting"), report_of())
    assert back.fallback_recovered and not back.alarming


def test_no_previous_state_says_there_is_nothing_to_compare_with(tmp_path):
    assert load_previous(None, "mailito.com") == NOTHING
    assert load_previous(tmp_path / "absent.json", "mailito.com") == NOTHING
    text = issue_body(report_of({"a.example.com": "problem"}), NOTHING, None, RUN)
    assert "Nothing to compare with yet: no previous report (the first run" in text
    assert "previous report" in text.splitlines()[1] and "no previous report" in text.splitlines()[1]


def test_a_state_for_another_zone_counts_as_none_and_says_so(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state_document(report_of({"a.example.com": "live"}, zone="other.example"), 7)))
    previous = load_previous(path, "mailito.com")
    assert previous.report is None and previous.issue_number is None
    assert previous.why_none == "the previous report is for zone `other.example`, this one for `mailito.com`: " \
                                "nothing to compare with"


@pytest.mark.parametrize("content", ["not json", "[]", json.dumps({"version": 2}),
                                     json.dumps({"version": 1, "report": {"zone": 3}, "issue": None})])
def test_an_unusable_previous_state_is_treated_as_none(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_text(content)
    previous = load_previous(path, "mailito.com")
    assert previous.report is None and previous.why_none


def test_the_previous_state_gives_its_report_and_issue_number(tmp_path):
    path = tmp_path / "state.json"
    report = report_of({"a.example.com": "live"})
    path.write_text(json.dumps(state_document(report, 12)))
    assert load_previous(path, "mailito.com") == Previous(report, 12)


# -- the body --------------------------------------------------------------------------------------------


def test_the_body_is_markdown_with_the_marker_the_news_and_the_report():
    previous_report = report_of({"a.example.com": "waiting"}, generated_at="2026-03-01T09:00:00Z")
    report = report_of({"a.example.com": "live", "b.example.com": "problem"})
    text = issue_body(report, Previous(previous_report, 3), changes_between(previous_report, report), RUN)
    lines = text.splitlines()
    assert lines[0] == MARKER
    assert lines[1] == ("Updated by the [status workflow](https://github.com/mailito/saas-domains/actions/runs/42) "
                        "at `2026-03-01T10:00:00Z`; previous report `2026-03-01T09:00:00Z`.")
    assert "- 🔴 **Started failing (1):** `b.example.com`" in lines
    assert "- 🟢 **Became active (1):** `a.example.com`" in lines
    assert "- ➕ **Added (1):** `b.example.com`" in lines
    assert "## Custom hostname status: `mailito.com` (stack `dev`)" in lines
    (states, attention) = tables(text)
    assert attention[1][0].code == ("b.example.com",)


def test_api_text_in_the_body_stays_inert():
    """Hostnames and Cloudflare's error texts may hold anything; nothing in them may mention or link."""
    hostile = "x@everyone.example.com"
    previous_report = report_of({})
    report = report_of({hostile: "problem"}, errors={hostile: ["@octocat see #1 <img src=x>"]})
    text = issue_body(report, Previous(previous_report, None), changes_between(previous_report, report), RUN)
    assert set(html_or_mentions(text)) <= OUR_MARKUP and hostile in text
    assert html_or_mentions(failing_comment(changes_between(previous_report, report), RUN)) == []


def test_each_news_list_is_bounded():
    names = {f"h{n:05}.example.com": "live" for n in range(120)}
    change = changes_between(report_of({}), report_of(names))
    text = issue_body(report_of(names), Previous(report_of({}), None), change, RUN)
    (added,) = [line for line in text.splitlines() if line.startswith("- ➕ **Added (120):**")]
    assert added.count("`h") == 50 and added.endswith(" and 70 more")


def test_a_huge_zone_still_fits_githubs_limit():
    """Tens of thousands of hostnames, every one failing and new: the body shrinks its tables to fit."""
    names = {f"customer-{n:05}.some-long-domain-name.example.com": "problem" for n in range(30_000)}
    report = report_of(names, missing=[f"missing-{n:05}.example.org" for n in range(5_000)])
    change = changes_between(report_of({}), report)
    unbounded = issue_body(report, Previous(report_of({}), None), change, RUN, max_rows=1000)
    assert len(unbounded) > 65_536
    text = bounded_issue_body(report, Previous(report_of({}), None), change, RUN, max_rows=1000)
    assert len(text) <= 65_536
    assert text.startswith(MARKER) and "**Started failing (35,000):**" in text
    assert "… and " in text and "more: run `saas-domains status --stack dev`" in text
    assert set(html_or_mentions(text)) <= OUR_MARKUP


def test_the_size_guard_has_a_last_resort():
    report = report_of({"a.example.com": "problem"})
    text = bounded_issue_body(report, NOTHING, None, RUN, limit=300)
    assert len(text) <= 300 and text.startswith(MARKER) and "too large for an issue" in text


# -- what to do --------------------------------------------------------------------------------------------

BAD = report_of({"a.example.com": "problem"})
GOOD = report_of({"a.example.com": "live"})
FAILING_NOW = StatusChanges(started_failing=["a.example.com"])


def plan(issue, report, new_body, change, run):
    """writes_for as `status-issue` calls it: the failing comment only for alarming news."""
    return writes_for(issue, report, new_body, failing_comment(change, run) if change and change.alarming else None)


def ops(calls):
    return [(c.method, c.operation, c.number, {k: v for k, v in c.payload.items() if k != "body"}) for c in calls]


def test_attention_and_no_issue_opens_it():
    words, calls = plan(None, BAD, "B", FAILING_NOW, RUN)
    assert ops(calls) == [("POST", "issues/create", None, {"title": TITLE})]  # the new issue notifies by itself
    assert calls[0].payload["body"] == "B" and "open the issue" in words


def test_attention_and_a_closed_issue_reopens_it_with_the_new_body():
    issue = {"number": 4, "state": "closed", "body": "old"}
    _, calls = plan(issue, BAD, "B", None, RUN)
    assert ops(calls) == [("PATCH", "issues/update", 4, {"state": "open", "state_reason": "reopened"})]
    _, calls = plan(issue, BAD, "B", FAILING_NOW, RUN)
    assert [c.operation for c in calls] == ["issues/update", "issues/create-comment"]


def test_attention_and_an_open_issue_updates_the_body_only_when_it_changed():
    _, calls = plan({"number": 4, "state": "open", "body": "old"}, BAD, "B", StatusChanges(), RUN)
    assert ops(calls) == [("PATCH", "issues/update", 4, {})] and calls[0].payload == {"body": "B"}
    words, calls = plan({"number": 4, "state": "open", "body": "B"}, BAD, "B", StatusChanges(), RUN)
    assert calls == [] and words == "#4 is up to date"


def test_one_comment_only_when_something_started_failing():
    issue = {"number": 4, "state": "open", "body": "old"}
    quiet = StatusChanges(became_active=["b.example.com"], added=["c.example.com"])
    assert [c.operation for c in plan(issue, BAD, "B", quiet, RUN)[1]] == ["issues/update"]
    _, calls = plan(issue, BAD, "B", FAILING_NOW, RUN)
    assert [c.operation for c in calls] == ["issues/update", "issues/create-comment"]
    assert "1 hostname started failing since the previous report: `a.example.com`." in calls[1].payload["body"]
    unchanged = {**issue, "body": "B"}
    assert [c.operation for c in plan(unchanged, BAD, "B", FAILING_NOW, RUN)[1]] == ["issues/create-comment"]


def test_all_well_closes_an_open_issue_and_leaves_a_closed_one_alone():
    _, calls = plan({"number": 4, "state": "open", "body": "old"}, GOOD, "B", StatusChanges(), RUN)
    assert ops(calls) == [("PATCH", "issues/update", 4, {"state": "closed", "state_reason": "completed"})]
    assert plan({"number": 4, "state": "closed", "body": "old"}, GOOD, "B", StatusChanges(), RUN)[1] == []
    assert plan(None, GOOD, "B", None, RUN) == ("all well and no issue: nothing to do", [])


# -- finding the issue, and the client, against the local GitHub -------------------------------------------


@pytest.fixture
def github(monkeypatch) -> Iterator[FakeGitHub]:
    waits: list[float] = []
    monkeypatch.setattr(github_api, "sleep", waits.append)
    with running(FakeGitHub()) as fake:
        fake.waits = waits
        yield fake


def client(fake: FakeGitHub, **options) -> GitHubApi:
    return GitHubApi(TOKEN, f"{OWNER}/{REPO}", base_url=fake.base_url, **options)


def test_the_previous_number_finds_the_issue_with_one_request(github):
    github.add_issue("noise")
    ours = github.add_issue(TITLE, f"{MARKER}\nbody", state="closed")
    found = find_issue(client(github), TITLE, ours["number"])
    assert (found.how, found.issue["number"]) == ("number", ours["number"])
    assert github.calls() == [("GET", f"/repos/{OWNER}/{REPO}/issues/{ours['number']}")]


def test_a_number_that_is_not_ours_falls_back_to_the_listing(github):
    impostor = github.add_issue(TITLE, "no marker here")
    ours = github.add_issue(TITLE, f"{MARKER}\nbody")
    found = find_issue(client(github), TITLE, impostor["number"])
    assert (found.how, found.issue["number"]) == ("listing", ours["number"])
    listing = github.requests[1]
    assert listing.query == {"state": "all", "sort": "updated", "direction": "desc", "per_page": "100", "page": "1"}
    assert find_issue(client(github), TITLE, 999).how == "listing"  # a deleted issue: 404, then the listing


def test_the_listing_skips_pull_requests_and_prefers_the_open_duplicate(github):
    github.add_issue(TITLE, f"{MARKER}\npr", pull_request=True)
    old = github.add_issue(TITLE, f"{MARKER}\nold", state="closed")
    github.add_issue("Custom hostname status (copy)", f"{MARKER}")
    current = github.add_issue(TITLE, f"{MARKER}\ncurrent")
    other = github.add_issue(TITLE, f"{MARKER}\nanother open one")
    found = find_issue(client(github), TITLE, None)
    assert found.issue["number"] in (current["number"], other["number"])
    assert found.issue["state"] == "open" and "pull_request" not in found.issue
    assert sorted(found.others) == sorted({old["number"], current["number"], other["number"]} - {found.issue["number"]})
    assert found.pages == 1  # a short page ends the listing


def test_the_listing_is_bounded_against_endless_pages(github):
    github.endless_pages = True
    found = find_issue(client(github), TITLE, None)
    assert found.how == "none" and found.pages == 10
    assert [r.query["page"] for r in github.requests] == [str(n) for n in range(1, 11)]


def test_the_listing_stops_at_a_repeated_page(github, monkeypatch):
    for n in range(100):
        github.add_issue(f"other {n}")
    original = github._list
    monkeypatch.setattr(github, "_list", lambda query: original({**query, "page": "1"}))  # ignores `page`
    found = find_issue(client(github), TITLE, None)
    assert found.how == "none" and len(github.requests) == 2  # page 2 repeats page 1: stop


def test_every_request_carries_githubs_headers(github):
    api = client(github)
    api.create_issue("t", "b")
    (request,) = github.requests
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["user-agent"] == "saas-domains-status-issue"
    assert github.spec_violations == []


def test_rate_limits_and_server_errors_are_retried_with_capped_waits(github):
    github.answer_first("/issues$", 429, headers={"Retry-After": "3600"})
    github.answer_first("/issues$", 502)
    github.answer_first("/issues$", 403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"},
                        message="API rate limit exceeded")
    notes: list[str] = []
    issues = client(github, notify=notes.append).list_issues(1)
    assert issues == [] and len(github.requests) == 4
    assert github.waits == [60.0, 2.0, 0.0]  # Retry-After capped at a minute; backoff; a reset in the past
    github.answer_first("/issues$", 429, headers={"Retry-After": "1"})
    assert client(github).create_issue("t", "b")["number"] == 1  # a rate limit refused the POST: safe to retry
    assert notes[0] == "GitHub: rate limited (429); waiting 60 s, attempt 2 of 4"


def test_a_create_is_not_repeated_after_a_server_error_since_it_may_have_happened(github):
    """A second POST after a 502 could open a second issue; the next run's listing finds the first one."""
    github.answer_first("/issues$", 502, method="POST")
    with pytest.raises(GitHubApiError, match=r"^HTTP 502 from GitHub \(POST /repos/mailito/saas-domains/issues\): "
                                             "not retried, since GitHub may have done it already"):
        client(github).create_issue("t", "b")
    assert len(github.requests) == 1 and github.waits == []
    github.answer_first("/issues/1/comments$", 503, method="POST")
    issue = client(github).create_issue("t", "b")
    with pytest.raises(GitHubApiError, match="not retried"):
        client(github).create_comment(issue["number"], "c")
    assert client(github).update_issue(issue["number"], {"body": "b2"})["number"] == issue["number"]


def test_a_persistent_failure_ends_with_a_clear_error(github):
    github.answer_first("/issues$", 503, times=10)
    with pytest.raises(GitHubApiError, match=r"^HTTP 503 from GitHub: still failing after 4 attempts "
                                             r"\(GET /repos/mailito/saas-domains/issues\); try again later$"):
        client(github).list_issues(1)
    assert len(github.requests) == 4


def test_refusals_say_what_to_check(github):
    with pytest.raises(GitHubApiError, match="GitHub refused the token .401: Bad credentials.: check GITHUB_TOKEN"):
        GitHubApi("wrong", f"{OWNER}/{REPO}", base_url=github.base_url).list_issues(1)
    with pytest.raises(GitHubApiError, match="the repository someone/else does not exist or the token cannot see it"):
        GitHubApi(TOKEN, "someone/else", base_url=github.base_url).list_issues(1)
    with pytest.raises(GitHubApiError, match=r"invalid \(422: Validation Failed; body is too long \(maximum is 65536"):
        client(github).create_issue("t", "x" * 65_537)
    github.answer_first("/issues$", 403, message="Resource not accessible by integration")
    with pytest.raises(GitHubApiError, match="a workflow needs `permissions: issues: write`"):
        client(github).create_issue("t", "b")
    assert github.waits == []  # none of these is retried


def test_the_fake_refuses_what_github_refuses(github):
    """The fake holds requests to the vendored description: unknown properties, enums, required fields."""
    api = client(github)
    issue = api.create_issue("t", "b")
    for payload, expected in (({"state": "reopen"}, "property 'state'='reopen'"),
                              ({"state_reason": "fixed"}, "property 'state_reason'='fixed'"),
                              ({"colour": "red"}, "property 'colour' is not declared")):
        with pytest.raises(GitHubApiError, match="422"):
            api.update_issue(issue["number"], payload)
        assert expected in github.spec_violations[-1]
    with pytest.raises(GitHubApiError):
        api.request("POST", api.issue_path(issue["number"], "/comments"), payload={})
    assert github.spec_violations[-1] == "required property 'body' is missing"
    with pytest.raises(GitHubApiError):
        api.request("GET", api.issue_path(), query={"per_page": 101})
    assert github.spec_violations[-1] == "per_page=101 is outside 1..100"
