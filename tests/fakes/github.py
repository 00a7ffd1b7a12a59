"""A local stand-in for GitHub's REST API: one repository's issues and comments, as strict as GitHub.

Stateful (issues are created, edited, closed, reopened and commented on) and recording: every
request is kept (method, path, query, JSON body) so tests assert the exact sequence of calls.

It holds requests to GitHub's rules, and to the vendored cut of GitHub's OpenAPI description
(tests/contract/github-openapi-subset.json) rather than to our reading of it:
- the operation must exist in the subset (method + path template), its query parameters must be
  declared there, within their enums and `per_page` within 1..100;
- a JSON body must hold the operation's `required` properties, only properties the operation
  declares, of the declared types (nullable where declared) and within the declared enums;
- `Authorization: Bearer <the token>` (401 "Bad credentials" otherwise), a `User-Agent` (403, as
  GitHub refuses requests without one), `Accept: application/vnd.github+json` and
  `X-GitHub-Api-Version: 2022-11-28` (400 otherwise; GitHub itself defaults the version);
- an issue or comment body over 65,536 characters is refused with 422, as GitHub does;
- another repository is 404 "Not Found", as for a repository the token cannot see.
It can be told to answer errors first (429/5xx/403 with rate-limit headers), to list pages for ever,
and holds pull requests (which the issues listing returns too, with a `pull_request` key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.loopback import json_handler, loopback_server

SPEC = json.loads((Path(__file__).parents[1] / "contract" / "github-openapi-subset.json").read_text())
TOKEN = "ghs_test0123456789"
OWNER, REPO = "mailito", "saas-domains"
MAX_BODY = 65_536


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Scripted:
    pattern: re.Pattern
    method: str | None
    status: int
    headers: dict[str, str]
    body: dict
    times: int


def _operation(method: str, path: str) -> tuple[dict | None, dict[str, str]]:
    for template, item in SPEC["paths"].items():
        regex = "^" + re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        match = re.match(regex, path)
        if match and method.lower() in item:
            return item[method.lower()], match.groupdict()
    return None, {}


def _parameter(parameter: dict) -> dict:
    if "$ref" in parameter:
        return SPEC["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
    return parameter


def _type_ok(value: Any, schema: dict) -> bool:
    if value is None:
        return bool(schema.get("nullable"))
    if "oneOf" in schema:
        return any(_type_ok(value, option) for option in schema["oneOf"])
    kind = schema.get("type")
    checks = {"string": lambda v: isinstance(v, str),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "boolean": lambda v: isinstance(v, bool), "array": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict), None: lambda v: True}
    if not checks.get(kind, lambda v: True)(value):
        return False
    return "enum" not in schema or value in schema["enum"]


def spec_problems(method: str, path: str, query: dict[str, str], body: Any) -> list[str]:
    """What GitHub's description says is wrong with this request (empty: nothing)."""
    operation, _ = _operation(method, path)
    if operation is None:
        return [f"{method} {path} is not an operation of the vendored GitHub subset"]
    problems = []
    declared = {p["name"]: p for p in map(_parameter, operation.get("parameters", [])) if p["in"] == "query"}
    for name, value in query.items():
        if name not in declared:
            problems.append(f"query parameter {name!r} is not declared for {operation['operationId']}")
            continue
        schema = declared[name]["schema"]
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{name}={value!r} is not one of {schema['enum']}")
        if schema.get("type") == "integer":
            if not re.fullmatch(r"\d+", value):
                problems.append(f"{name}={value!r} is not an integer")
            elif not schema.get("minimum", 0) <= int(value) <= schema.get("maximum", 10**9):
                problems.append(f"{name}={value} is outside {schema.get('minimum')}..{schema.get('maximum')}")
    request_body = operation.get("requestBody")
    if request_body is None:
        if body is not None:
            problems.append(f"{operation['operationId']} takes no body")
        return problems
    if body is None:
        return problems + ([f"{operation['operationId']} requires a JSON body"] if request_body["required"] else [])
    schema = request_body["content"]["application/json"]["schema"]
    if not isinstance(body, dict):
        return problems + ["the body is not a JSON object"]
    problems += [f"required property {name!r} is missing" for name in schema.get("required", []) if name not in body]
    for name, value in body.items():
        if name not in schema["properties"]:
            problems.append(f"property {name!r} is not declared for {operation['operationId']}")
        elif not _type_ok(value, schema["properties"][name]):
            problems.append(f"property {name!r}={value!r} does not match {schema['properties'][name]}")
    return problems


@dataclass
class FakeGitHub:
    owner: str = OWNER
    repo: str = REPO
    token: str = TOKEN
    issues: dict[int, dict] = field(default_factory=dict)
    comments: list[dict] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    scripted: list[Scripted] = field(default_factory=list)
    spec_violations: list[str] = field(default_factory=list)
    endless_pages: bool = False  # every listing page is full, whatever the page number (a broken paging)
    base_url: str = ""
    clock: int = 0

    # -- set-up --------------------------------------------------------------------------------------

    def add_issue(self, title: str, body: str = "", *, state: str = "open", pull_request: bool = False,
                  number: int | None = None) -> dict:
        number = number or max(self.issues, default=0) + 1
        issue = {"id": 1000 + number, "number": number, "title": title, "body": body, "state": state,
                 "state_reason": "completed" if state == "closed" else None,
                 "html_url": f"https://github.com/{self.owner}/{self.repo}/issues/{number}",
                 "updated_at": self._tick(), "user": {"login": "someone"}}
        if pull_request:
            issue["pull_request"] = {"url": f"https://api.github.com/repos/{self.owner}/{self.repo}/pulls/{number}"}
        self.issues[number] = issue
        return issue

    def answer_first(self, path_regex: str, status: int, *, times: int = 1, method: str | None = None,
                     headers: dict[str, str] | None = None, message: str | None = None) -> None:
        body = {"message": message or f"HTTP {status} from the fake",
                "documentation_url": "https://docs.github.com/rest"}
        self.scripted.append(Scripted(re.compile(path_regex), method, status, headers or {}, body, times))

    def calls(self) -> list[tuple[str, str]]:
        """The recorded sequence: (method, path)."""
        return [(r.method, r.path) for r in self.requests]

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def _tick(self) -> str:
        self.clock += 1
        return f"2026-03-01T{self.clock // 3600:02}:{self.clock // 60 % 60:02}:{self.clock % 60:02}Z"

    # -- routing -------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               raw: bytes) -> tuple[int, dict[str, str], Any]:
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {}, {"message": "Problems parsing JSON"}
        self.requests.append(Recorded(method, path, query, body, headers))
        for script in self.scripted:
            if script.times > 0 and script.pattern.search(path) and script.method in (None, method):
                script.times -= 1
                return script.status, script.headers, script.body
        if not headers.get("user-agent"):
            return 403, {}, {"message": "Request forbidden by administrative rules. Please make sure your request "
                                        "has a User-Agent header"}
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        if headers.get("accept") != "application/vnd.github+json":
            wanted = "application/vnd.github+json"
            return 400, {}, {"message": f"the fake wants Accept: {wanted}, got {headers.get('accept')!r}"}
        if headers.get("x-github-api-version") != "2022-11-28":
            return 400, {}, {"message": f"Invalid API version {headers.get('x-github-api-version')!r}"}
        prefix = f"/repos/{self.owner}/{self.repo}/issues"
        if not path.startswith(f"/repos/{self.owner}/{self.repo}/") and path != prefix:
            return 404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        problems = spec_problems(method, path, query, body)
        if problems:
            self.spec_violations += problems
            return 422, {}, {"message": "Validation Failed", "errors": [{"message": p} for p in problems]}
        for key in ("body",):
            if isinstance(body, dict) and isinstance(body.get(key), str) and len(body[key]) > MAX_BODY:
                return 422, {}, {"message": "Validation Failed", "errors": [
                    {"resource": "Issue", "code": "custom", "field": "body",
                     "message": f"body is too long (maximum is {MAX_BODY} characters)"}]}
        rest = path[len(prefix):]
        if rest == "" and method == "GET":
            return self._list(query)
        if rest == "" and method == "POST":
            issue = self.add_issue(str(body["title"]), body.get("body") or "")
            return 201, {"Location": f"{self.base_url}{prefix}/{issue['number']}"}, issue
        match = re.fullmatch(r"/(\d+)(/comments)?", rest)
        if not match or int(match.group(1)) not in self.issues:
            return 404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        issue = self.issues[int(match.group(1))]
        if match.group(2) and method == "POST":
            created = {"id": 5000 + len(self.comments), "body": body["body"],
                       "html_url": f"{issue['html_url']}#issuecomment-{5000 + len(self.comments)}"}
            self.comments.append({**created, "issue": issue["number"]})
            return 201, {}, created
        if method == "GET":
            return 200, {}, issue
        if method == "PATCH":
            return 200, {}, self._update(issue, body or {})
        return 404, {}, {"message": "Not Found"}

    def _list(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        state = query.get("state", "open")
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        items = [i for i in self.issues.values() if state == "all" or i["state"] == state]
        key = "updated_at" if query.get("sort") == "updated" else "number"
        items.sort(key=lambda i: i[key], reverse=query.get("direction", "desc") == "desc")
        if self.endless_pages:
            filler = [{"id": 900_000 + page * 1000 + n, "number": 900_000 + page * 1000 + n, "title": "Unrelated",
                       "body": "", "state": "open", "html_url": "https://github.com/x/y/issues/1",
                       "updated_at": "2026-01-01T00:00:00Z"} for n in range(per_page)]
            return 200, {"Link": f'<{self.base_url}?page={page + 1}>; rel="next"'}, filler
        chunk = items[(page - 1) * per_page: page * per_page]
        return 200, {}, chunk

    def _update(self, issue: dict, fields: dict) -> dict:
        for key in ("title", "body"):
            if key in fields:
                issue[key] = fields[key]
        if "state" in fields and fields["state"] != issue["state"]:
            issue["state"] = fields["state"]
            issue["state_reason"] = fields.get("state_reason") or ("reopened" if fields["state"] == "open"
                                                                   else "completed")
        issue["updated_at"] = self._tick()
        return issue


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    def respond(method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        return fake.handle(method, parts.path, dict(parse_qsl(parts.query)), headers, raw)

    return json_handler(respond)


@contextmanager
def running(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    with loopback_server(_handler(fake)) as url:
        fake.base_url = url
        yield fake
