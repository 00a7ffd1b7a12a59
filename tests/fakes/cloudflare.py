"""A local stand-in for the Cloudflare API v4, enough for the operations commands.

It answers the documented JSON envelopes (`success`, `errors`, `messages`, `result`,
`result_info` with page/per_page/count/total_count/total_pages) on 127.0.0.1 with an ephemeral
port, checks the bearer token, refuses per_page outside 5..1000 like the real endpoint (Cloudflare's
OpenAPI spec: maximum 1000), can be told to answer 429/5xx first or to shape the custom-hostname
listing the ways the spec allows (no `result`, no `result_info`, an absurd `total_pages`), and
records every request so tests can count them.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import json_handler, loopback_server

TOKEN = "test-token-0123456789"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
ZONE_NAME = "mailito.com"
PREFIX = "/client/v4"


def custom_hostname(hostname: str, *, status: str = "active", ssl_status: str = "active",
                    method: str = "http", created_at: str = "2026-01-05T10:00:00Z",
                    verification_errors: list[str] | None = None, validation_errors: list[str] | None = None,
                    validation_records: list[dict] | None = None, ownership: bool = True,
                    hostname_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A custom hostname as GET /zones/{id}/custom_hostnames documents it."""
    hostname_id = hostname_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, hostname))
    token = str(uuid.uuid5(uuid.NAMESPACE_URL, hostname))
    item: dict[str, Any] = {
        "id": hostname_id,
        "hostname": hostname,
        "ssl": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_OID, hostname)),
            "type": "dv",
            "method": method,
            "status": ssl_status,
            "bundle_method": "ubiquitous",
            "wildcard": False,
            "certificate_authority": "google",
            "settings": {"min_tls_version": "1.2", "http2": "on", "tls_1_3": "on", "early_hints": "off"},
        },
        "status": status,
        "created_at": created_at,
    }
    if validation_records is not None:
        item["ssl"]["validation_records"] = validation_records
    if validation_errors:
        item["ssl"]["validation_errors"] = [{"message": m} for m in validation_errors]
    if verification_errors:
        item["verification_errors"] = verification_errors
    if ownership:
        item["ownership_verification"] = {"type": "txt", "name": f"_cf-custom-hostname.{hostname}", "value": token}
        item["ownership_verification_http"] = {
            "http_url": f"http://{hostname}/.well-known/cf-custom-hostname-challenge/{hostname_id}",
            "http_body": token}
    for key, value in extra.items():
        if key.startswith("ssl_"):
            item["ssl"][key[4:]] = value
        else:
            item[key] = value
    return item


def fallback_origin(origin: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    """A fallback origin as GET /zones/{id}/custom_hostnames/fallback_origin documents it."""
    return {"origin": origin, "status": status, "errors": [], "created_at": "2026-01-05T10:00:00Z",
            "updated_at": "2026-01-05T10:05:00Z", **extra}


@dataclass
class Scripted:
    """A canned answer for requests whose path matches, used `times` times before normal service."""

    path: re.Pattern
    status: int
    body: dict
    headers: dict
    times: int


@dataclass
class FakeCloudflare:
    zone_id: str = ZONE_ID
    zone_name: str = ZONE_NAME
    token: str = TOKEN
    hostnames: list[dict] = field(default_factory=list)
    fallback: dict | None = None
    # Successive fallback-origin states, one per GET (None: deleted, answered 404); the last stays.
    fallback_states: list[dict | None] = field(default_factory=list)
    dns: list[dict] = field(default_factory=list)
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    scripted: list[Scripted] = field(default_factory=list)
    base_url: str = ""
    # How the custom-hostname listing answers, within what the spec allows: total_pages to claim
    # instead of the true one, and whether `result` / `result_info` are left out.
    claimed_total_pages: int | None = None
    omit_result: bool = False
    omit_result_info: bool = False

    def answer_first(self, path: str, status: int, *, times: int = 1, retry_after: str | None = None,
                     errors: list[dict] | None = None) -> None:
        """Answer the next `times` requests whose path matches the regex with this error."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = envelope(None, success=False,
                        errors=errors or [{"code": 10000 + status, "message": f"HTTP {status} from the fake"}])
        self.scripted.append(Scripted(re.compile(path), status, body, headers, times))

    def count(self, path_regex: str = ".*") -> int:
        pattern = re.compile(path_regex)
        return sum(1 for _, path, _ in self.requests if pattern.search(path))

    # -- routing -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], auth: str | None) -> tuple[int, dict, dict]:
        self.requests.append((method, path, query))
        for script in self.scripted:
            if script.times > 0 and script.path.search(path):
                script.times -= 1
                return script.status, script.body, script.headers
        if auth != f"Bearer {self.token}":
            return 403, envelope(None, success=False, errors=[{"code": 9109, "message": "Invalid access token"}]), {}
        if method != "GET":
            return 405, envelope(None, success=False, errors=[{"code": 10405, "message": "Method not allowed"}]), {}
        if path == "/zones":
            zones = [{"id": self.zone_id, "name": self.zone_name, "status": "active"}]
            matching = [z for z in zones if query.get("name") in (None, z["name"])]
            return 200, envelope(matching, result_info=page_info(1, 20, len(matching), len(matching))), {}
        match = re.fullmatch(r"/zones/([^/]+)/(.*)", path)
        if not match or match.group(1) != self.zone_id:
            message = f"Could not route to {path}, perhaps your object identifier is invalid?"
            return 404, envelope(None, success=False, errors=[{"code": 7003, "message": message}]), {}
        rest = match.group(2)
        if rest == "custom_hostnames":
            return self.list_hostnames(query)
        if rest == "custom_hostnames/fallback_origin":
            if self.fallback_states:
                self.fallback = self.fallback_states.pop(0)
            if self.fallback is None:
                errors = [{"code": 1551, "message": "No fallback origin found"}]
                return 404, envelope(None, success=False, errors=errors), {}
            return 200, envelope(self.fallback), {}
        if rest == "dns_records":
            name, kind = query.get("name.exact") or query.get("name"), query.get("type")
            found = [r for r in self.dns if r["name"] == name and kind in (None, r["type"])]
            return 200, envelope(found, result_info=page_info(1, 100, len(found), len(found))), {}
        return 404, envelope(None, success=False, errors=[{"code": 7000, "message": "No route for that URI"}]), {}

    def list_hostnames(self, query: dict[str, str]) -> tuple[int, dict, dict]:
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
        if not 5 <= per_page <= 1000:
            return 400, envelope(None, success=False, errors=[
                {"code": 1004, "message": "per_page must be between 5 and 1000"}]), {}
        wanted = query.get("hostname.exact") or query.get("hostname")
        items = [h for h in self.hostnames if wanted in (None, h["hostname"])]
        chunk = items[(page - 1) * per_page: page * per_page]
        info = page_info(page, per_page, len(chunk), len(items))
        if self.claimed_total_pages is not None:
            info["total_pages"] = self.claimed_total_pages
        body = envelope(chunk, result_info=None if self.omit_result_info else info)
        if self.omit_result:
            del body["result"]
        return 200, body, {}


def envelope(result: Any, *, success: bool = True, errors: list | None = None,
             result_info: dict | None = None) -> dict:
    body = {"success": success, "errors": errors or [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def page_info(page: int, per_page: int, count: int, total: int) -> dict:
    return {"page": page, "per_page": per_page, "count": count, "total_count": total,
            "total_pages": max(1, math.ceil(total / per_page))}


def _handler(fake: FakeCloudflare) -> type[BaseHTTPRequestHandler]:
    def respond(method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        path = parts.path[len(PREFIX):] if parts.path.startswith(PREFIX) else parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        status, body, extra = fake.handle(method, path, query, headers.get("authorization"))
        return status, extra, body

    return json_handler(respond)


@contextmanager
def serve(fake: FakeCloudflare) -> Iterator[FakeCloudflare]:
    with loopback_server(_handler(fake)) as url:
        fake.base_url = f"{url}{PREFIX}"
        yield fake

