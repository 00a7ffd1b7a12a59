"""The GitHub REST API as `status-issue` needs it: five issue operations, with manners and bounded retries.

The operations are those of tests/contract/github-openapi-subset.json (cut from GitHub's OpenAPI
description, API version 2022-11-28): get, list-for-repo, create and update an issue, create a
comment. Every request carries the headers GitHub asks for (`Accept: application/vnd.github+json`,
`X-GitHub-Api-Version`, a bearer token and a `User-Agent`, without which GitHub refuses it).

Rate limits and transient failures (429, 5xx, a 403 that is a rate limit, a dropped connection)
are retried a bounded number of times (a POST only after a rate limit: after a 5xx it may have
created the issue or comment already), honouring `Retry-After` or `x-ratelimit-reset` but never
waiting longer than `RetryPolicy.max_wait` at once, so a job ends with a clear error instead of
hanging. Every other failure becomes a GitHubApiError whose message says what to check.

Plain urllib: no dependency beyond the standard library.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TOKEN_VARIABLE = "GITHUB_TOKEN"
API_URL_VARIABLE = "GITHUB_API_URL"
DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "saas-domains-status-issue"
# GitHub refuses an issue or comment body longer than this (422 "body is too long (maximum is 65536 characters)").
MAX_BODY_CHARACTERS = 65_536
PER_PAGE = 100  # the most issues/list-for-repo returns in one page
TOKEN_HELP = (f"set {TOKEN_VARIABLE} to a token that may read and write issues in the repository (in a workflow: "
              f"`{TOKEN_VARIABLE}: ${{{{ github.token }}}}` with `permissions: issues: write`); "
              f"{API_URL_VARIABLE} overrides the API address")


class GitHubApiError(Exception):
    """A call failed for good; the message says why and what to check, for a person."""


class MissingGitHubTokenError(GitHubApiError):
    """No token in the environment: the command cannot run at all."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # calls in total, the first included
    max_wait: float = 60.0  # never wait longer than this at once, whatever GitHub asks
    first_backoff: float = 1.0  # without Retry-After or a reset time: 1, 2, 4 seconds


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


def sleep(seconds: float) -> None:
    """The one place this module waits (tests replace it)."""
    time.sleep(seconds)


class GitHubApi:
    """One repository's issues. `notify` tells the person at the terminal (stderr) about every wait."""

    def __init__(self, token: str, repo: str, *, base_url: str = DEFAULT_API_URL,
                 retry: RetryPolicy = RetryPolicy(), notify: Callable[[str], None] | None = None,
                 timeout: float = 30.0) -> None:
        self.token, self.repo = token, repo
        self.base_url = base_url.rstrip("/")
        self.retry, self.timeout = retry, timeout
        self.notify = notify or (lambda message: None)

    @classmethod
    def from_environment(cls, repo: str, environ: Mapping[str, str] | None = None, **options: Any) -> GitHubApi:
        environ = os.environ if environ is None else environ
        token = (environ.get(TOKEN_VARIABLE) or "").strip()
        if not token:
            raise MissingGitHubTokenError(f"{TOKEN_VARIABLE} is not set: {TOKEN_HELP}")
        return cls(token, repo, base_url=(environ.get(API_URL_VARIABLE) or DEFAULT_API_URL).strip(), **options)

    # -- the five operations -------------------------------------------------------------------------

    def issue_path(self, number: int | None = None, suffix: str = "") -> str:
        path = f"/repos/{self.repo}/issues"
        return path if number is None else f"{path}/{number}{suffix}"

    def get_issue(self, number: int) -> dict[str, Any] | None:
        """issues/get; None when the issue is gone (404, 410) or was moved to another repository (301)."""
        answer = self.request("GET", self.issue_path(number), missing_ok=True)
        return answer.body if answer.status == 200 and isinstance(answer.body, dict) else None

    def list_issues(self, page: int) -> list[dict[str, Any]]:
        """issues/list-for-repo, every state, most recently updated first: one page of at most PER_PAGE."""
        query = {"state": "all", "sort": "updated", "direction": "desc", "per_page": PER_PAGE, "page": page}
        body = self.request("GET", self.issue_path(), query=query).body
        if not isinstance(body, list):
            raise GitHubApiError(f"GitHub answered GET {self.issue_path()} with something other than a list of issues")
        return [item for item in body if isinstance(item, dict)]

    def create_issue(self, title: str, body: str) -> dict[str, Any]:
        return self._issue(self.request("POST", self.issue_path(), payload={"title": title, "body": body}))

    def update_issue(self, number: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self._issue(self.request("PATCH", self.issue_path(number), payload=dict(fields)))

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        answer = self.request("POST", self.issue_path(number, "/comments"), payload={"body": body})
        return answer.body if isinstance(answer.body, dict) else {}

    def _issue(self, answer: Answer) -> dict[str, Any]:
        if not isinstance(answer.body, dict) or not isinstance(answer.body.get("number"), int):
            raise GitHubApiError("GitHub's answer holds no issue number")
        return answer.body

    # -- requests --------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                payload: Mapping[str, Any] | None = None, missing_ok: bool = False) -> Answer:
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = None if payload is None else json.dumps(payload).encode()
        what = f"{method} {path}"
        for attempt in range(1, self.retry.attempts + 1):
            answer, transient = self._send(method, url, data)
            if answer is not None and answer.status < 300:
                return answer
            if answer is not None and missing_ok and answer.status in (301, 404, 410):
                return answer
            if transient is None:
                raise GitHubApiError(self._refusal(what, answer))
            if method == "POST" and not _refused_unprocessed(answer):
                # A POST creates: after a 5xx or a dropped connection GitHub may have created it already, and a
                # second try would open a second issue or comment. The next run finds the issue by listing.
                raise GitHubApiError(f"{transient} ({what}): not retried, since GitHub may have done it already; "
                                     "the next run finds the issue by listing")
            if attempt == self.retry.attempts:
                raise GitHubApiError(f"{transient}: still failing after {attempt} attempts ({what}); "
                                     "try again later")
            wait = self._wait(answer, attempt)
            self.notify(f"GitHub: {transient}; waiting {wait:g} s, attempt {attempt + 1} of {self.retry.attempts}")
            sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, data: bytes | None) -> tuple[Answer | None, str | None]:
        """(the answer, why it is worth retrying or None)."""
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                   "Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = Answer(response.status, dict(response.headers), _json(response.read()))
        except urllib.error.HTTPError as err:
            answer = Answer(err.code, dict(err.headers or {}), _json(err.read()))
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
            reason = getattr(err, "reason", err)
            return None, f"cannot reach {self.base_url} ({reason})"
        return answer, _transient(answer)

    def _wait(self, answer: Answer | None, attempt: int) -> float:
        wanted = self.retry.first_backoff * 2 ** (attempt - 1)
        if answer is not None:
            headers = {k.lower(): v for k, v in answer.headers.items()}
            if _number(headers.get("retry-after")) is not None:
                wanted = _number(headers["retry-after"])
            elif headers.get("x-ratelimit-remaining") == "0" and _number(headers.get("x-ratelimit-reset")) is not None:
                wanted = _number(headers["x-ratelimit-reset"]) - time.time()
        return max(0.0, min(wanted, self.retry.max_wait))

    def _refusal(self, what: str, answer: Answer | None) -> str:
        assert answer is not None
        message = _message(answer.body)
        said = f" ({answer.status}{': ' + message if message else ''})"
        if answer.status == 401:
            return f"GitHub refused the token{said}: check {TOKEN_VARIABLE} (expired, revoked or not a token)"
        if answer.status == 404:
            return (f"GitHub answered {what}{said}: the repository {self.repo} does not exist or the token cannot see "
                    "it; check --repo (default $GITHUB_REPOSITORY) and the token's access")
        if answer.status == 403:
            return (f"GitHub refused {what}{said}: the token may not do this; a workflow needs `permissions: "
                    "issues: write`")
        if answer.status == 410:
            return f"GitHub refused {what}{said}: issues are disabled in {self.repo}"
        if answer.status == 422:
            return f"GitHub refused {what} as invalid{said}"
        return f"GitHub answered {what} with HTTP {answer.status}{said}"


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    message = str(body.get("message") or "")
    details = [str(e.get("message") or e.get("code") or "") for e in body.get("errors") or [] if isinstance(e, dict)]
    details = [d for d in details if d]
    return "; ".join([message, *details]) if details else message


def _refused_unprocessed(answer: Answer | None) -> bool:
    """A rate limit (429, or a 403 that is one): GitHub refused the request before doing anything."""
    return answer is not None and answer.status in (403, 429)


def _transient(answer: Answer) -> str | None:
    """Why a failed answer is worth another try, or None: 429, 5xx, and a 403 that is a rate limit."""
    headers = {k.lower(): v for k, v in answer.headers.items()}
    if answer.status == 429:
        return "rate limited (429)"
    if answer.status >= 500:
        return f"HTTP {answer.status} from GitHub"
    if answer.status == 403 and (headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
                                 or "rate limit" in _message(answer.body).lower()):
        return "rate limited (403)"
    return None
