"""The GitHub REST API as `status-issue` needs it: five issue operations, with manners and bounded retries.

The operations are those of tests/contract/github-openapi-subset.json (cut from GitHub's OpenAPI
description, API version 2022-11-28): get, list-for-repo, create and update an issue, create a
comment. Every request carries the headers GitHub asks for (`Accept: application/vnd.github+json`,
`X-GitHub-Api-Version`, a bearer token and a `User-Agent`, without which GitHub refuses it).

Rate limits and transient failures (429, 5xx, a 403 that is a rate limit, a dropped or truncated
answer, a request past its deadline, a maintenance page instead of JSON) are retried a bounded number
of times (a POST only where GitHub cannot have acted on it: after a rate limit, or when not a byte of
it was sent; after a 5xx or a dropped connection it may have created the issue or comment already),
honouring `Retry-After` or `x-ratelimit-reset` but never waiting longer than `RETRY.max_wait` at once
(network_limits.RetryPolicy, the one retry rule of every client) nor past the command's deadline, so a
job ends with a clear error instead of hanging. Every other failure becomes a GitHubApiError whose
message names the API, what was being done and what to check.

Each request is held to the limits of `network_limits`: a total deadline (connect, TLS, sending and
every read together), the command's deadline and a size cap on the body. urllib's `timeout` is per
socket operation, so a trickle never trips it; the sockets here (`_DeadlineSocket`,
`_DeadlineSSLSocket`) give every blocking operation only the time left until the request's deadline.

Plain urllib: no dependency beyond the standard library.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.clients.network_limits import (
    CONNECTING,
    UNREACHABLE,
    Budget,
    NetworkFailure,
    RetryPolicy,
    collect,
    current_attempt,
    failure_of,
    json_answer,
    not_shaped,
    truncated,
)
from infra.errors import ClientError

TOKEN_VARIABLE = "GITHUB_TOKEN"
API_URL_VARIABLE = "GITHUB_API_URL"
DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "saas-domains-status-issue"
# GitHub refuses an issue or comment body longer than this (422 "body is too long (maximum is 65536 characters)").
MAX_BODY_CHARACTERS = 65_536
PER_PAGE = 100  # the most issues/list-for-repo returns in one page
POST_NOT_RETRIED = ("not retried, since GitHub may have done it already; try again later: the next run finds the "
                    "issue by listing")
TOKEN_HELP = (f"set {TOKEN_VARIABLE} to a token that may read and write issues in the repository (in a workflow: "
              f"`{TOKEN_VARIABLE}: ${{{{ github.token }}}}` with `permissions: issues: write`); "
              f"{API_URL_VARIABLE} overrides the API address")


class GitHubApiError(ClientError):
    """A call failed for good; the message says why and what to check, for a person."""


class MissingGitHubTokenError(GitHubApiError):
    """No token in the environment: the command cannot run at all."""


# 1, 2, 4 s without Retry-After or a reset time; never longer than a minute at once, whatever GitHub asks.
RETRY = RetryPolicy(attempts=4, max_wait=60.0, first_backoff=1.0)


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
                 retry: RetryPolicy = RETRY, notify: Callable[[str], None] | None = None,
                 budget: Budget | None = None) -> None:
        self.token, self.repo = token, repo
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.budget = budget or Budget()
        self.notify = notify or (lambda message: None)
        self._opener = _opener()

    @classmethod
    def from_environment(cls, repo: str, environ: Mapping[str, str] | None = None, **options: Any) -> GitHubApi:
        """The token from GITHUB_TOKEN, the address from GITHUB_API_URL; the limits from the same environment
        (network_limits) unless the command's `budget` is given."""
        environ = os.environ if environ is None else environ
        token = (environ.get(TOKEN_VARIABLE) or "").strip()
        if not token:
            raise MissingGitHubTokenError(f"{TOKEN_VARIABLE} is not set: {TOKEN_HELP}")
        options.setdefault("budget", Budget.from_environment(environ))
        return cls(token, repo, base_url=(environ.get(API_URL_VARIABLE) or DEFAULT_API_URL).strip(), **options)

    # -- the five operations -------------------------------------------------------------------------

    def issue_path(self, number: int | None = None, suffix: str = "") -> str:
        path = f"/repos/{self.repo}/issues"
        return path if number is None else f"{path}/{number}{suffix}"

    def get_issue(self, number: int) -> dict[str, Any] | None:
        """issues/get; None when the issue is gone (404, 410) or was moved to another repository (301)."""
        answer = self.request("GET", self.issue_path(number), missing_ok=True)
        if answer.status != 200:
            return None
        return self._shaped(answer, dict, f"GET {self.issue_path(number)}", "an object (an issue)")

    def list_issues(self, page: int) -> list[dict[str, Any]]:
        """issues/list-for-repo, every state, most recently updated first: one page of at most PER_PAGE."""
        query = {"state": "all", "sort": "updated", "direction": "desc", "per_page": PER_PAGE, "page": page}
        answer = self.request("GET", self.issue_path(), query=query)
        body = self._shaped(answer, list, f"GET {self.issue_path()} (page {page})", "a list of issues")
        return [item for item in body if isinstance(item, dict)]

    def create_issue(self, title: str, body: str) -> dict[str, Any]:
        path = self.issue_path()
        return self._issue(self.request("POST", path, payload={"title": title, "body": body}), f"POST {path}")

    def update_issue(self, number: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        path = self.issue_path(number)
        return self._issue(self.request("PATCH", path, payload=dict(fields)), f"PATCH {path}")

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        path = self.issue_path(number, "/comments")
        return self._shaped(self.request("POST", path, payload={"body": body}), dict, f"POST {path}",
                            "an object (a comment)")

    def _issue(self, answer: Answer, what: str) -> dict[str, Any]:
        issue = self._shaped(answer, dict, what, "an object (an issue)")
        if not isinstance(issue.get("number"), int):
            raise GitHubApiError(f"GitHub API at {self.base_url} ({what}): the answer holds no issue number; "
                                 f"check that {API_URL_VARIABLE} points at the API itself")
        return issue

    def _shaped(self, answer: Answer, kind: type, what: str, wanted: str) -> Any:
        """The answer's body when it is what the operation promises (GitHub's description); else an error."""
        if isinstance(answer.body, kind):
            return answer.body
        failure = not_shaped(answer.body, wanted)
        raise GitHubApiError(f"GitHub API at {self.base_url} ({what}): {failure.said}; "
                             f"{failure.advice_for(API_URL_VARIABLE, self.budget.limits)}")

    # -- requests --------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                payload: Mapping[str, Any] | None = None, missing_ok: bool = False) -> Answer:
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = None if payload is None else json.dumps(payload).encode()
        what = f"{method} {path}"
        for attempt in range(1, self.retry.attempts + 1):
            try:
                answer = self._send(method, url, data)
            except NetworkFailure as failure:
                answer, transient, said = None, failure.said, self._said(failure, what)
                if method == "POST" and failure.maybe_done:
                    raise GitHubApiError(f"{said}: {POST_NOT_RETRIED}") from None
                if not failure.transient or attempt == self.retry.attempts:
                    tries = f", still failing after {attempt} attempts" if attempt > 1 else ""
                    raise GitHubApiError(f"{self._said(failure, what + tries)}; {self._advice(failure)}") from None
                advice = self._advice(failure)
            else:
                if answer.status < 300:
                    return answer
                if missing_ok and answer.status in (301, 404, 410):
                    return answer
                transient = _transient(answer)
                if transient is None:
                    raise GitHubApiError(self._refusal(what, answer))
                if method == "POST" and not _refused_unprocessed(answer):
                    # A POST creates: after a 5xx GitHub may have created it already, and a second try
                    # would open a second issue or comment. The next run finds the issue by listing.
                    raise GitHubApiError(f"{transient} ({what}): {POST_NOT_RETRIED}")
                if attempt == self.retry.attempts:
                    raise GitHubApiError(f"{transient}: still failing after {attempt} attempts ({what}); "
                                         "try again later")
                said, advice = f"{transient} ({what})", "try again later"
            wait = self._wait(answer, attempt)
            refusal = self.budget.refuses_wait(wait)
            if refusal:
                raise GitHubApiError(f"{said}; {refusal}; {advice}")
            self.notify(f"GitHub: {transient}; waiting {wait:g} s, attempt {attempt + 1} of {self.retry.attempts}")
            sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _said(self, failure: NetworkFailure, what: str) -> str:
        if failure.kind in CONNECTING:
            return f"cannot reach the GitHub API at {self.base_url} ({what}): {failure.said}"
        return f"GitHub API at {self.base_url} ({what}): {failure.said}"

    def _advice(self, failure: NetworkFailure) -> str:
        return failure.advice_for(API_URL_VARIABLE, self.budget.limits)

    def _send(self, method: str, url: str, data: bytes | None) -> Answer:
        """One request under the budget: the answer (any status), or a NetworkFailure."""
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                   "Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
        except ValueError as err:  # no http(s) address at all
            raise NetworkFailure(UNREACHABLE, f"the address is not usable ({err})", transient=False,
                                 maybe_done=False) from None
        limit = self.budget.limits.max_answer_bytes
        attempt = self.budget.attempt()
        with attempt.active():
            try:
                try:
                    response = self._opener.open(request, timeout=attempt.seconds)
                except urllib.error.HTTPError as err:  # an answer all the same: its status says what
                    response = err
                with response:
                    status, answer_headers = response.status, dict(response.headers or {})
                    raw = collect(iter(lambda: response.read(64 * 1024), b""), limit, response.headers or {})
                    source = response.fp if isinstance(response, urllib.error.HTTPError) else response
                    if getattr(source, "length", None):  # read in chunks, http.client ends a short body quietly
                        raise truncated(attempt)
            except NetworkFailure:
                raise
            except Exception as err:
                failure = failure_of(err, attempt)
                if failure is None:
                    raise
                raise failure from err
        if 200 <= status < 300 and status != 204:
            return Answer(status, answer_headers, json_answer(raw))
        return Answer(status, answer_headers, _json(raw))

    def _wait(self, answer: Answer | None, attempt: int) -> float:
        asked = None
        if answer is not None:
            headers = {k.lower(): v for k, v in answer.headers.items()}
            if _number(headers.get("retry-after")) is not None:
                asked = _number(headers["retry-after"])
            elif headers.get("x-ratelimit-remaining") == "0" and _number(headers.get("x-ratelimit-reset")) is not None:
                asked = _number(headers["x-ratelimit-reset"]) - time.time()
        return self.retry.delay(attempt, asked)

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


# -- sockets that keep the request's deadline --------------------------------------------------------------------


class _Clipped:
    """Socket operations that may block only until the current request's deadline (network_limits.Attempt).

    http.client sets one timeout per socket, which every operation gets again; here each send, receive
    and TLS handshake gets that timeout or what is left of the deadline, whichever is shorter, so a
    trickling answer ends at the deadline. Bytes sent mark the request as possibly done (a POST is
    then never repeated).
    """

    _wanted: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._wanted = value
        super().settimeout(value)  # type: ignore[misc]

    def _clip(self) -> None:
        attempt = current_attempt()
        if attempt is not None:
            super().settimeout(attempt.timeout(self._wanted))  # type: ignore[misc]

    def _sending(self) -> None:
        self._clip()
        attempt = current_attempt()
        if attempt is not None:
            attempt.sent = True

    def send(self, *args: Any) -> int:
        self._sending()
        return super().send(*args)  # type: ignore[misc]

    def sendall(self, *args: Any) -> None:
        self._sending()
        return super().sendall(*args)  # type: ignore[misc]

    def recv(self, *args: Any) -> bytes:
        self._clip()
        return super().recv(*args)  # type: ignore[misc]

    def recv_into(self, *args: Any) -> int:
        self._clip()
        return super().recv_into(*args)  # type: ignore[misc]


class _DeadlineSocket(_Clipped, socket.socket):
    pass


class _DeadlineSSLSocket(_Clipped, ssl.SSLSocket):
    def do_handshake(self, *args: Any) -> None:
        self._clip()
        super().do_handshake(*args)


def _connect(address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> socket.socket:
    """socket.create_connection, the connect itself within the deadline, giving a socket that keeps it."""
    wanted = timeout if isinstance(timeout, int | float) else None
    attempt = current_attempt()
    plain = socket.create_connection(address, attempt.timeout(wanted) if attempt else wanted, source_address)
    kept = _DeadlineSocket(fileno=plain.detach())
    kept.settimeout(wanted)
    return kept


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        self.bounded_context = ssl.create_default_context()  # the system's CAs, or SSL_CERT_FILE's
        self.bounded_context.sslsocket_class = _DeadlineSSLSocket
        super().__init__(context=self.bounded_context)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=self.bounded_context)


def _opener() -> urllib.request.OpenerDirector:
    """urllib as urlopen builds it (the environment's proxy included), with the sockets above."""
    return urllib.request.build_opener(_HTTPHandler, _HTTPSHandler())
