"""The emulator's Cloudflare: state, semantics and the request log, without any HTTP (server.py serves it).

`Emulator.handle(Request)` answers one API request the way Cloudflare's API reference (and, where it
is silent, Cloudflare's observed behaviour) says, changing the state it holds. Every answer is
Cloudflare's envelope `{success, errors, messages, result}` (plus `result_info` for listings); statuses
are the ones the spec subset declares for each operation (200, 201 for a webhook, 204 for a deleted
ruleset), since Prism in front of the emulator refuses any other 2xx.

What it holds, per the operations terraform-provider-cloudflare v5.22.0 calls for the program's
resources (internal/services/<resource>/resource.go) and the operations commands' reads:

- zones (GET /zones?name=, GET /zones/{id}), seeded: there is no zone creation;
- DNS records: POST, GET, PUT (what dns_record/resource.go's Update calls: `DNS.Records.Update`),
  PATCH, DELETE, and the listing with Cloudflare's filters (name/content/comment/tag operators,
  `match`, paging); an A/AAAA/CNAME name conflict is Cloudflare's 81053, an identical record 81058;
  deleting the record a fallback origin still uses (even `pending_deletion`) is error 1039;
- custom hostnames: POST, PATCH (only the fields it carries; see `edit_hostname`), GET, DELETE,
  the listing (paging, `hostname`/`hostname.exact` and the other filters); a duplicate hostname is
  409 / 1406 "Duplicate custom hostname found."; Cloudflare's hostname rules 1407, 1409, 1411;
  hostnames left `pending` or `moved` for 7 days disappear (Cloudflare deletes them);
- the fallback origin: PUT, GET, DELETE with Cloudflare's asynchronous deletion: `pending_deletion`
  for `fallback_deletion_gets` GETs and `fallback_deletion_seconds`, then 404;
- zone settings GET/PATCH (`ssl` and a few others);
- zone rulesets: create, get, update (PUT), delete, list, and the phase entrypoints; one `kind: zone`
  ruleset per phase: a second is 400 / 20217;
- Authenticated Origin Pulls: zone certificates (upload, get, list, delete) and the zone setting;
- account notification policies and webhook destinations; creating or changing a webhook sends
  Cloudflare's test message to its URL when that URL is on loopback (recorded in `deliveries`);
- GET /ips.

Also: the bearer token (none: 400 / 9106; unknown: 403 / 9109), a per-token rate limit (1,200
requests per 300 s by default, then 429 with Retry-After for the rest of the window, as Cloudflare
blocks for five minutes), injected faults per method, path and nth occurrence, and a log of every
request (method, path, query, body, token, status, answer, time, violations).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.contract.spec import Spec
from tests.emulator import schema

ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
ZONE_NAME = "mailito.com"
ACCOUNT_ID = "01a7362d577a6c3019a474fd6f485823"
TOKEN = "emulator-token-0123456789abcdefghijklmnop"
PREFIX = "/client/v4"
SEVEN_DAYS = 7 * 24 * 3600.0
RATE_LIMIT = 1200  # requests per window per token (developers.cloudflare.com/fundamentals/api/reference/limits)
RATE_WINDOW = 300.0
# Cloudflare's published ranges (https://www.cloudflare.com/ips/), what GET /ips answers.
IPV4_CIDRS = ["173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
              "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
              "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22"]
IPS_ETAG = "a8e453d9d129a3769407127936edfdb0"
IPV6_CIDRS = ["2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
              "2a06:98c0::/29", "2c0f:f248::/32"]
# The spec gives one default for the ssl object of a custom hostname (sslpost.bundle_method); every
# other field is echoed when sent and absent otherwise.
SSL_DEFAULTS = {"bundle_method": "ubiquitous"}
FALLBACK_DNS_ERROR = "DNS records are not setup correctly. Origin should be a proxied A/AAAA/CNAME dns record"
# pulumi/pulumi-cloudflare#782 shows this text; it is terraform-provider-cloudflare v4's own message
# (v4.52.0 internal/framework/service/rulesets/resource.go:24), written by the provider after it
# found the phase's entrypoint. v5.22.0 only POSTs, so what reaches the engine is the API's answer,
# 20217 below (cloudflare/terraform-provider-cloudflare#6273, #3444: HTTP 400, source /kind).
PROVIDER_V4_DUPLICATE_RULESET = (
    "A similar configuration with rules already exists and overwriting will have unintended consequences. If "
    "you are migrating from the Dashboard, you will need to first import the existing rules using "
    "cf-terraforming. You can find details about how to do this at https://developers.cloudflare.com/terraform/"
    "additional-configurations/ddos-managed-rulesets/#optional-delete-existing-rulesets-to-start-from-scratch")
WEBHOOK_TEST_TEXT = ("Hello World! This is a test message sent from https://cloudflare.com. If you can see this, "
                     "your webhook is configured properly.")
ZONE_RULESET_KINDS = ("zone", "custom")
SETTING_VALUES = {
    "ssl": ("off", "flexible", "full", "strict"),
    "min_tls_version": ("1.0", "1.1", "1.2", "1.3"),
    "always_use_https": ("on", "off"),
    "tls_1_3": ("on", "off", "zrt"),
    "automatic_https_rewrites": ("on", "off"),
}
SETTING_DEFAULTS = {"ssl": "flexible", "min_tls_version": "1.0", "always_use_https": "off", "tls_1_3": "on",
                    "automatic_https_rewrites": "on"}


class ApiError(Exception):
    """An error answer: HTTP status and Cloudflare's error objects."""

    def __init__(self, status: int, code: int, message: str, *, pointer: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        error: dict[str, Any] = {"code": code, "message": message}
        if pointer:
            error["source"] = {"pointer": pointer}
        self.status, self.errors, self.headers = status, [error], headers or {}


def not_found(code: int, message: str) -> ApiError:
    return ApiError(404, code, message)


def no_route(path: str) -> ApiError:
    return ApiError(404, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?")


def new_id() -> str:
    return uuid.uuid4().hex  # 32 characters: the spec's identifiers have maxLength 32


def envelope(result: Any, result_info: dict | None = None) -> dict:
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def error_body(errors: list[dict]) -> dict:
    return {"success": False, "errors": errors, "messages": [], "result": None}


class Clock:
    """Wall time plus an offset tests move forward (`advance`), so days pass in no time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def iso(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- requests, answers, faults, the log -------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str  # without /client/v4
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    raw: bytes = b""
    request_id: str = ""

    @property
    def token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    body: Any  # JSON, or None for no content
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow-answer fault)
    bare: bool = False  # no envelope: the spec's answer to a custom hostname DELETE is just {"id"}


@dataclass
class Fault:
    """What to do to the nth request (and the `times - 1` after it) matching method and path.

    action: "drop_after" (answer computed, state changed, connection closed without an answer),
    "drop_before" (connection closed, the request never reaches the emulator), "status" (answer
    `status` with Cloudflare's error body, and Retry-After when given), "delay" (answer normally
    after `delay` seconds). `path` is a template (`/zones/{zone_id}/custom_hostnames`, `*` for one
    segment) or, starting with `^`, a regular expression.
    """

    method: str
    path: str
    action: str
    nth: int = 1
    times: int = 1
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    code: int | None = None
    message: str | None = None
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.action not in ("drop_after", "drop_before", "status", "delay"):
            raise ValueError(f"unknown fault action {self.action!r}")
        pattern = self.path if self.path.startswith("^") else (
            "^" + re.sub(r"\\\{[^}]*\\\}|\\\*", "[^/]+", re.escape(self.path)) + "$")
        self._regex = re.compile(pattern)

    def matches(self, method: str, path: str) -> bool:
        return self.method.upper() in ("*", method.upper()) and bool(self._regex.search(path))

    def answer(self) -> Response:
        if self.action == "delay":
            raise AssertionError("a delay has no answer of its own")
        code = self.code or (10000 if self.status == 429 else 10000 + self.status)
        message = self.message or ("Please wait and consider throttling your request speed" if self.status == 429
                                   else f"Injected fault: HTTP {self.status}")
        headers = {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}
        return Response(self.status, error_body([{"code": code, "message": message}]), headers)

    def public(self) -> dict:
        return {k: v for k, v in asdict(self).items()}


@dataclass
class Exchange:
    """One request in the log, as the emulator (and the proxy in front of it) saw it."""

    id: str
    time: float
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    token: str | None
    status: int | None = None
    response: Any = None
    fault: str | None = None
    served_by: str = "emulator"  # or "prism": the proxy answered without asking the emulator
    violations: list[dict] = field(default_factory=list)
    tolerated: list[dict] = field(default_factory=list)  # Prism's known false reports, with the reason

    def public(self) -> dict:
        return asdict(self)


# -- the emulator ------------------------------------------------------------------------------------


class Emulator:
    """Cloudflare's state and answers; thread-safe (one lock around every request)."""

    def __init__(self, *, tokens: tuple[str, ...] = (TOKEN,), spec: Spec | None = None,
                 rate_limit: int = RATE_LIMIT, rate_window: float = RATE_WINDOW,
                 fallback_deletion_gets: int = 2, fallback_deletion_seconds: float = 0.0,
                 hostname_expiry: float = SEVEN_DAYS, webhook_tests: bool = True) -> None:
        self.spec = spec or Spec.load()
        self.lock = threading.RLock()
        self.clock = Clock()
        self.tokens = set(tokens)
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.fallback_deletion_gets = fallback_deletion_gets
        self.fallback_deletion_seconds = fallback_deletion_seconds
        self.hostname_expiry = hostname_expiry
        self.webhook_tests = webhook_tests
        self._defaults = {"tokens": set(tokens), "rate_limit": rate_limit, "rate_window": rate_window,
                          "fallback_deletion_gets": fallback_deletion_gets,
                          "fallback_deletion_seconds": fallback_deletion_seconds,
                          "hostname_expiry": hostname_expiry, "webhook_tests": webhook_tests}
        self.faults: list[Fault] = []
        self.generation = 0
        self.log: list[Exchange] = []
        self.deliveries: list[dict] = []  # webhook test messages sent (or not) by the emulator
        self._hits: dict[str, deque] = {}
        self._blocked: dict[str, float] = {}
        self.reset_state()

    # -- state ---------------------------------------------------------------------------------

    def reset_state(self) -> None:
        with self.lock:
            self.zones: dict[str, dict] = {}
            self.records: dict[str, dict[str, dict]] = {}
            self.hostnames: dict[str, dict[str, dict]] = {}
            self.fallbacks: dict[str, dict] = {}
            self.settings: dict[str, dict[str, dict]] = {}
            self.rulesets: dict[str, dict[str, dict]] = {}
            self.aop_certificates: dict[str, dict[str, dict]] = {}
            self.aop_settings: dict[str, dict] = {}
            self.accounts: set[str] = {ACCOUNT_ID}
            self.policies: dict[str, dict[str, dict]] = {ACCOUNT_ID: {}}
            self.webhooks: dict[str, dict[str, dict]] = {ACCOUNT_ID: {}}
            self.add_zone(ZONE_NAME, ZONE_ID)

    def reset(self) -> None:
        """State back to one empty zone, options to those it was made with; log, faults, deliveries and
        rate counters emptied."""
        with self.lock:
            self.generation += 1  # what a request still under way when the test ended must not log into
            for key, value in self._defaults.items():
                setattr(self, key, set(value) if key == "tokens" else value)
            self.reset_state()
            self.faults.clear()
            self.log.clear()
            self.deliveries.clear()
            self._hits.clear()
            self._blocked.clear()
            self.clock.offset = 0.0

    def state(self) -> dict:
        """Everything the emulator holds, as JSON (what /__emulator/state answers)."""
        with self.lock:
            self._sweep()
            return copy.deepcopy({
                "zones": self.zones, "dns_records": self.records, "custom_hostnames": self.hostnames,
                "fallback_origins": self.fallbacks, "settings": self.settings, "rulesets": self.rulesets,
                "aop_certificates": self.aop_certificates, "aop_settings": self.aop_settings,
                "notification_policies": self.policies, "webhooks": self.webhooks,
                "webhook_deliveries": self.deliveries,
            })

    def add_zone(self, name: str, zone_id: str | None = None, account_id: str = ACCOUNT_ID) -> dict:
        zone_id = zone_id or new_id()
        now = self.clock.iso()
        zone = {
            "id": zone_id, "name": name, "status": "active", "paused": False, "type": "full",
            "development_mode": 0, "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            "original_name_servers": None, "original_registrar": None, "original_dnshost": None,
            "created_on": now, "modified_on": now, "activated_on": now,
            "meta": {"step": 4, "custom_certificate_quota": 0, "page_rule_quota": 3, "phishing_detected": False},
            "owner": {"id": "7c5dae5552338874e5053f2534d2767a", "type": "user", "email": "ops@mailito.com",
                      "name": "Mailito ops"},
            "account": {"id": account_id, "name": "Mailito"},
            "permissions": ["#zone:read", "#zone:edit"],
            "plan": {"id": "94f3b7b768b0458b56d2cac4fe5ec0f9", "name": "Enterprise Website", "price": 0,
                     "currency": "USD", "frequency": "", "is_subscribed": True, "can_subscribe": False,
                     "legacy_id": "enterprise", "legacy_discount": False, "externally_managed": False},
        }
        with self.lock:
            self.zones[zone_id] = zone
            self.accounts.add(account_id)
            self.policies.setdefault(account_id, {})
            self.webhooks.setdefault(account_id, {})
            for store in (self.records, self.hostnames, self.rulesets, self.aop_certificates):
                store.setdefault(zone_id, {})
            self.settings.setdefault(zone_id, {})
            self.aop_settings.setdefault(zone_id, {"enabled": False})
        return zone

    def seed(self, data: dict) -> None:
        """Hand-made state: zones, dns_records, custom_hostnames, rulesets, fallback_origin, settings
        (each optional; records and hostnames are given by zone name or id, or land in the first zone)."""
        with self.lock:
            for zone in data.get("zones", []):
                self.add_zone(zone["name"], zone.get("id"), zone.get("account_id", ACCOUNT_ID))
            default = next(iter(self.zones))
            for item in data.get("dns_records", []):
                zone_id = self._zone_ref(item.pop("zone", None) or default)
                self.create_record(zone_id, item)
            for item in data.get("custom_hostnames", []):
                zone_id = self._zone_ref(item.pop("zone", None) or default)
                extra = {k: item.pop(k) for k in ("status", "ssl_status", "id", "created_at") if k in item}
                self.seed_hostname(zone_id, item, **extra)
            for item in data.get("rulesets", []):
                zone_id = self._zone_ref(item.pop("zone", None) or default)
                self._store_ruleset(zone_id, item)
            if "fallback_origin" in data:
                item = dict(data["fallback_origin"])
                zone_id = self._zone_ref(item.pop("zone", None) or default)
                self.fallbacks[zone_id] = self._fallback(item["origin"], item.get("status", "active"))
            for setting_id, value in data.get("settings", {}).items():
                self.settings[default][setting_id] = {"value": value, "modified_on": None}

    def _zone_ref(self, ref: str) -> str:
        if ref in self.zones:
            return ref
        for zone_id, zone in self.zones.items():
            if zone["name"] == ref:
                return zone_id
        raise KeyError(f"no zone {ref!r} in the emulator")

    def seed_hostname(self, zone_id: str, body: dict, *, status: str = "pending", ssl_status: str | None = None,
                      id: str | None = None, created_at: str | None = None) -> dict:
        """A custom hostname as if made in the dashboard (no request logged)."""
        with self.lock:
            item = self._new_hostname(zone_id, body, hostname_id=id)
            item["status"] = status
            if ssl_status:
                item["ssl"]["status"] = ssl_status
            if created_at:
                item["created_at"] = created_at
            return item

    def expire_hostname(self, zone_id: str, hostname_id: str) -> None:
        """What Cloudflare does to a hostname left pending (or moved) for 7 days: it is gone."""
        with self.lock:
            self.hostnames[zone_id].pop(hostname_id, None)

    def _sweep(self) -> None:
        now = self.clock.now()
        for zone_hostnames in self.hostnames.values():
            for hostname_id, item in list(zone_hostnames.items()):
                if item["status"] in ("pending", "moved") and now - item["_status_since"] >= self.hostname_expiry:
                    del zone_hostnames[hostname_id]

    # -- request handling -------------------------------------------------------------------------

    def add_fault(self, **spec: Any) -> Fault:
        fault = Fault(**spec)
        with self.lock:
            self.faults.append(fault)
        return fault

    def fault_for(self, method: str, path: str) -> Fault | None:
        """The fault this request triggers (counting it as an occurrence for every matching fault)."""
        chosen = None
        with self.lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if chosen is None and fault.nth <= fault.seen < fault.nth + fault.times:
                    fault.fired += 1
                    chosen = fault
        return chosen

    def handle(self, request: Request, fault: Fault | None = None) -> Response:
        """One request: authenticate, rate-limit, check the body, route; logged with its answer."""
        body, parse_error = parse_json(request.raw)
        entry = Exchange(request.request_id or new_id(), self.clock.now(), request.method, request.path,
                         request.query, body if parse_error is None else request.raw.decode(errors="replace"),
                         request.token, fault=fault.action if fault else None)
        with self.lock:
            self.log.append(entry)
            response = self._answer(request, body, parse_error, fault, entry)
            entry.status, entry.response = response.status, response.body
            entry.violations.extend(_envelope_problems(response))
        return response

    def _answer(self, request: Request, body: Any, parse_error: str | None, fault: Fault | None,
                entry: Exchange) -> Response:
        try:
            if request.path != "/ips":  # Cloudflare's address list needs no credentials (spec: security [{}])
                self._authenticate(request)
            if fault is not None and fault.action == "status":
                return fault.answer()
            template = self.spec.route(request.path) if request.path != "/" else None
            if template is not None and request.method.lower() in self.spec.document["paths"][template]:
                found = self._check_query(template, request.method.lower(), request.query)
                found += self._check_body(template, request.method.lower(), body, parse_error)
                entry.violations.extend(found)
                refused = [v["message"] for v in found if schema.UNKNOWN not in v["message"]]
                if refused:  # what Cloudflare refuses too; an unknown field it ignores (still a violation)
                    raise ApiError(400, 10001, "Invalid request: " + "; ".join(refused[:5]))
            self._sweep()
            result = self._route(request, body)
            response = result if isinstance(result, Response) else Response(200, result)
        except ApiError as err:
            response = Response(err.status, error_body(err.errors), err.headers)
        if fault is not None and fault.action == "delay":
            response.delay = fault.delay
        return response

    def _authenticate(self, request: Request) -> None:
        token = request.token
        if token is None:
            if "authorization" in request.headers:
                raise ApiError(400, 6003, "Invalid request headers")
            raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        if token not in self.tokens:
            raise ApiError(403, 9109, "Invalid access token")
        now = time.monotonic()
        blocked = self._blocked.get(token)
        if blocked is not None and now < blocked:
            raise self._rate_limited(blocked - now)
        hits = self._hits.setdefault(token, deque())
        while hits and now - hits[0] >= self.rate_window:
            hits.popleft()
        if len(hits) >= self.rate_limit:
            self._blocked[token] = now + self.rate_window  # Cloudflare blocks the rest of five minutes
            raise self._rate_limited(self.rate_window)
        hits.append(now)

    @staticmethod
    def _rate_limited(seconds: float) -> ApiError:
        # Cloudflare is seen answering code 971 here (cloudflare/workers-sdk#10025), but every error
        # schema of the spec subset says code >= 1000, and Prism holds the emulator to the spec.
        return ApiError(429, 10000, "Please wait and consider throttling your request speed",
                        headers={"Retry-After": str(max(1, math.ceil(seconds)))})

    def _check_query(self, template: str, method: str, query: dict[str, list[str]]) -> list[dict]:
        """Declared query parameters within their schemas (per_page 5..1000 for custom hostnames...), as
        Cloudflare refuses them; undeclared ones are ignored, as Cloudflare and Prism ignore them."""
        found = []
        for parameter in self.spec.operation(template, method).get("parameters", []):
            parameter = self.spec.resolve(parameter)
            if parameter.get("in") != "query" or parameter["name"] not in query:
                continue
            wanted = self.spec.resolve(parameter.get("schema", {}))
            for raw in query[parameter["name"]]:
                value = _query_value(raw, wanted.get("type"))
                found += [{"location": ["request", "query"], "severity": "Error", "code": "emulator",
                           "message": problem}
                          for problem in schema.check(self.spec, value, wanted, f"query.{parameter['name']}")]
        return found

    def _check_body(self, template: str, method: str, body: Any, parse_error: str | None) -> list[dict]:
        wanted = schema.request_schema(self.spec, template, method)
        if wanted is None:
            return []
        if parse_error is not None:
            raise ApiError(400, 1400, "Unable to decode the JSON request body. Check your input and try again.")
        return [{"location": ["request", "body"], "severity": "Error", "code": "emulator", "message": problem}
                for problem in schema.check(self.spec, body, wanted)]

    # -- routing ------------------------------------------------------------------------------------

    def _route(self, request: Request, body: Any) -> Any:
        method, path = request.method, request.path
        parts = [p for p in path.split("/") if p]
        if parts == ["ips"] and method == "GET":
            return envelope({"ipv4_cidrs": IPV4_CIDRS, "ipv6_cidrs": IPV6_CIDRS, "etag": IPS_ETAG})
        if parts == ["zones"] and method == "GET":
            return self.list_zones(request)
        if len(parts) >= 2 and parts[0] == "zones":
            zone_id = parts[1]
            if zone_id not in self.zones:
                raise no_route(path)
            return self._zone_route(request, zone_id, parts[2:], body)
        if len(parts) >= 4 and parts[0] == "accounts" and parts[2:4] == ["alerting", "v3"]:
            if parts[1] not in self.accounts:
                raise no_route(path)
            return self._alerting_route(request, parts[1], parts[4:], body)
        raise no_route(path)

    def _zone_route(self, request: Request, zone_id: str, rest: list[str], body: Any) -> Any:
        method = request.method
        head = rest[0] if rest else None
        if not rest and method == "GET":
            return envelope(self.zones[zone_id])
        if head == "dns_records":
            return self._records_route(request, zone_id, rest[1:], body)
        if head == "custom_hostnames":
            return self._hostnames_route(request, zone_id, rest[1:], body)
        if head == "settings" and len(rest) == 2:
            return self._setting(zone_id, rest[1], method, body)
        if head == "rulesets":
            return self._rulesets_route(request, zone_id, rest[1:], body)
        if head == "origin_tls_client_auth":
            return self._aop_route(request, zone_id, rest[1:], body)
        raise no_route(request.path)

    # -- zones --------------------------------------------------------------------------------------

    def list_zones(self, request: Request) -> dict:
        zones = list(self.zones.values())
        name = request.arg("name")
        if name is not None:
            zones = [z for z in zones if _string_match(z["name"], name)]
        if request.arg("account.id"):
            zones = [z for z in zones if z["account"]["id"] == request.arg("account.id")]
        if request.arg("status"):
            zones = [z for z in zones if z["status"] == request.arg("status")]
        return _page(zones, request, default_per_page=20)

    # -- DNS records ----------------------------------------------------------------------------------

    def _records_route(self, request: Request, zone_id: str, rest: list[str], body: Any) -> Any:
        return self._collection(request, rest, self.records[zone_id], not_found(81044, "Record does not exist."), {
            "GET": lambda: self.list_records(zone_id, request),
            "POST": lambda: envelope(self._public(self.create_record(zone_id, body))),
        }, {
            "GET": lambda record: envelope(self._public(record)),
            "PUT": lambda record: envelope(self._public(self.update_record(zone_id, record, body, replace=True))),
            "PATCH": lambda record: envelope(self._public(self.update_record(zone_id, record, body, replace=False))),
            "DELETE": lambda record: self.delete_record(zone_id, record),
        })

    def _collection(self, request: Request, rest: list[str], items: dict[str, dict], missing: ApiError,
                    on_collection: dict[str, Callable[[], Any]], on_item: dict[str, Callable[[dict], Any]]) -> Any:
        """/things (GET, POST) and /things/{id} (GET, PUT, PATCH, DELETE): who answers which method."""
        if not rest and request.method in on_collection:
            return on_collection[request.method]()
        if len(rest) == 1 and request.method in on_item:
            item = items.get(rest[0])
            if item is None:
                raise missing
            return on_item[request.method](item)
        raise no_route(request.path)

    def _fqdn(self, zone_id: str, name: str) -> str:
        zone = self.zones[zone_id]["name"]
        name = name.rstrip(".").lower()
        if name in ("@", ""):
            return zone
        return name if name == zone or name.endswith("." + zone) else f"{name}.{zone}"

    def create_record(self, zone_id: str, body: dict) -> dict:
        now = self.clock.iso()
        record = {"id": new_id(), "created_on": now, "modified_on": now}
        self._fill_record(zone_id, record, body, replace=True)
        self.records[zone_id][record["id"]] = record
        return record

    def update_record(self, zone_id: str, record: dict, body: dict, *, replace: bool) -> dict:
        updated = {k: record[k] for k in ("id", "created_on")} if replace else dict(record)
        self._fill_record(zone_id, updated, body, replace=replace, current=record)
        updated["modified_on"] = self.clock.iso()
        self.records[zone_id][record["id"]] = updated
        return updated

    def _fill_record(self, zone_id: str, record: dict, body: dict, *, replace: bool,
                     current: dict | None = None) -> None:
        merged = dict(body) if replace else {**record, **body}
        for required in ("name", "type"):
            if not merged.get(required):
                raise ApiError(400, 9005 if required == "name" else 9004,
                               f"DNS record {required} is required.", pointer=f"/{required}")
        kind = merged["type"]
        name = self._fqdn(zone_id, merged["name"])
        content = merged.get("content")
        if kind in ("A", "AAAA", "CNAME", "TXT") and not content:
            raise ApiError(400, 9021, "Content for the record is required.", pointer="/content")
        if kind == "A":
            _ip(content, 4)
        elif kind == "AAAA":
            _ip(content, 6)
        proxied = bool(merged.get("proxied", False))
        if proxied and kind not in ("A", "AAAA", "CNAME"):
            raise ApiError(400, 9004, "This record type cannot be proxied.", pointer="/proxied")
        ttl = merged.get("ttl", 1)
        if not (ttl == 1 or 30 <= ttl <= 86400):
            raise ApiError(400, 9003, "Invalid 'ttl' setting. TTL must be between 30 and 86400 seconds, or 1 for "
                                      "Automatic.", pointer="/ttl")
        if proxied:
            ttl = 1  # proxied records always report Automatic
        self._check_conflicts(zone_id, name, kind, content, skip=record.get("id"))
        comment = merged.get("comment")
        previous_comment = current.get("comment") if current else None
        record.update({
            "name": name, "type": kind, "content": content.rstrip(".") if kind == "CNAME" else content,
            "proxiable": kind in ("A", "AAAA", "CNAME"), "proxied": proxied, "ttl": ttl,
            # As Cloudflare answers: `comment` null when there is none, `data` only for records that have
            # it. The spec's record schema requires both (see Hops.tolerated in server.py).
            "settings": merged.get("settings") or {}, "meta": {}, "comment": comment or None,
            "tags": list(merged.get("tags") or []),
        })
        for optional in ("priority", "data"):
            if merged.get(optional):
                record[optional] = merged[optional]
            else:
                record.pop(optional, None)
        if comment != previous_comment and comment:
            record["comment_modified_on"] = self.clock.iso()
        if record["tags"]:
            record["tags_modified_on"] = self.clock.iso()

    def _check_conflicts(self, zone_id: str, name: str, kind: str, content: Any, skip: str | None) -> None:
        address = ("A", "AAAA", "CNAME")
        for other in self.records[zone_id].values():
            if other["id"] == skip or other["name"] != name:
                continue
            if other["type"] == kind and other.get("content") == content:
                raise ApiError(400, 81058, "A record with the same settings already exists.")
            if kind in address and other["type"] in address and "CNAME" in (kind, other["type"]):
                raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists. For more "
                                           "details, refer to <https://developers.cloudflare.com/dns/manage-dns-"
                                           "records/troubleshooting/records-with-same-name/>.")

    def delete_record(self, zone_id: str, record: dict) -> dict:
        fallback = self._fallback_now(zone_id)
        if fallback is not None and record["type"] in ("A", "AAAA", "CNAME") and fallback["origin"] == record["name"]:
            raise ApiError(400, 1039, f"The DNS record {record['name']} is the custom hostname fallback origin of "
                                      f"this zone ({fallback['status']}); delete the fallback origin and wait until "
                                      "it is gone before deleting its DNS record.")
        del self.records[zone_id][record["id"]]
        return envelope({"id": record["id"]})

    def list_records(self, zone_id: str, request: Request) -> dict:
        records = sorted(self.records[zone_id].values(), key=lambda r: (r["type"], r["name"]))
        tests: list[Callable[[dict], bool]] = []
        for field_name in ("name", "content", "comment"):
            for operator in ("", ".exact", ".contains", ".startswith", ".endswith", ".present", ".absent"):
                value = request.arg(field_name + operator)
                if value is None:
                    continue
                if field_name == "name" and operator in ("", ".exact"):
                    value = self._fqdn(zone_id, value)
                tests.append(_field_test(field_name, operator or ".exact", value))
        for operator in ("", ".exact", ".contains", ".startswith", ".endswith", ".present", ".absent"):
            value = request.arg("tag" + operator)
            if value is not None:
                tests.append(_tag_test(operator or ".exact", value))
        kind, proxied = request.arg("type"), request.arg("proxied")
        if kind:
            tests.append(lambda r: r["type"] == kind)
        if proxied is not None:
            tests.append(lambda r: r["proxied"] == (proxied == "true"))
        if request.arg("search"):
            needle = request.arg("search").lower()
            tests.append(lambda r: any(needle in str(r.get(k) or "").lower() for k in ("name", "content", "comment")))
        combine = any if request.arg("match") == "any" else all
        found = [r for r in records if not tests or combine(test(r) for test in tests)]
        order = request.arg("order")
        if order in ("type", "name", "content", "ttl", "proxied"):
            found.sort(key=lambda r: str(r.get(order)), reverse=request.arg("direction") == "desc")
        return _page([self._public(r) for r in found], request, default_per_page=100)

    @staticmethod
    def _public(record: dict) -> dict:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    # -- custom hostnames -------------------------------------------------------------------------------

    def _hostnames_route(self, request: Request, zone_id: str, rest: list[str], body: Any) -> Any:
        if rest == ["fallback_origin"]:
            return self._fallback_route(zone_id, request.method, body)
        items = self.hostnames[zone_id]
        return self._collection(request, rest, items, not_found(1436, "The custom hostname was not found."), {
            "GET": lambda: self.list_hostnames(zone_id, request),
            "POST": lambda: envelope(self._public(self.create_hostname(zone_id, body))),
        }, {
            "GET": lambda item: envelope(self._public(self._validating(item))),
            "PATCH": lambda item: envelope(self._public(self.edit_hostname(item, body))),
            # The spec's answer to this DELETE is the id alone, without the envelope.
            "DELETE": lambda item: Response(200, {"id": items.pop(item["id"])["id"]}, bare=True),
        })

    def create_hostname(self, zone_id: str, body: dict) -> dict:
        hostname = str(body.get("hostname") or "")
        _check_hostname(hostname, 1407, "custom hostname")
        if any(h["hostname"] == hostname.lower() for h in self.hostnames[zone_id].values()):
            raise ApiError(409, 1406, "Duplicate custom hostname found.")
        if body.get("custom_origin_server"):
            _check_hostname(body["custom_origin_server"], 1415, "custom origin hostname")
        return self._new_hostname(zone_id, body)

    def _new_hostname(self, zone_id: str, body: dict, hostname_id: str | None = None) -> dict:
        hostname = body["hostname"].lower()
        hostname_id = hostname_id or new_id()
        token = str(uuid.uuid4())
        ssl = {**SSL_DEFAULTS, **copy.deepcopy(body.get("ssl") or {})}
        for write_only in ("custom_cert_bundle", "cloudflare_branding"):
            ssl.pop(write_only, None)
        ssl.update({"id": str(uuid.uuid4()), "status": "initializing"})
        item = {
            "id": hostname_id, "hostname": hostname, "ssl": ssl, "status": "pending",
            "created_at": self.clock.iso(), "verification_errors": [],
            "ownership_verification": {"type": "txt", "name": f"_cf-custom-hostname.{hostname}", "value": token},
            "ownership_verification_http": {
                "http_url": f"http://{hostname}/.well-known/cf-custom-hostname-challenge/{hostname_id}",
                "http_body": token},
            "_status_since": self.clock.now(),
        }
        for key in ("custom_metadata", "custom_origin_server", "custom_origin_sni"):
            if body.get(key):
                item[key] = copy.deepcopy(body[key])
        self.hostnames[zone_id][hostname_id] = item
        return item

    def edit_hostname(self, item: dict, body: dict) -> dict:
        """PATCH: only the fields the body carries change; the rest is left as it was.

        How a field is cleared is not documented: the API reference (operation
        custom-hostname-for-a-zone-edit-custom-hostname, "Modify SSL configuration for a custom
        hostname..."), the custom origin server and custom metadata pages of Cloudflare for SaaS and
        the Terraform provider's issues say nothing about removing `custom_origin_server`,
        `custom_origin_sni` or `custom_metadata`, and the spec makes none of them nullable (a `null`
        is refused by the proxy). The strict reading, then: a field absent from the PATCH is left as
        it was; an empty string (origin, SNI) or an empty object (metadata) clears it, which is the
        only way the spec allows to say "none". `custom_metadata` is replaced whole, not merged (it
        is the hostname's one metadata object). `ssl` is merged: the ssl fields the PATCH carries
        replace those fields (and `ssl.settings` likewise), as the description says a PATCH can
        change just the validation method; it restarts validation (ssl.status `pending_validation`).
        """
        for key in ("custom_origin_server", "custom_origin_sni", "custom_metadata"):
            if key not in body:
                continue
            if body[key] in ("", {}):
                item.pop(key, None)
            else:
                if key == "custom_origin_server":
                    _check_hostname(body[key], 1415, "custom origin hostname")
                item[key] = copy.deepcopy(body[key])
        if "ssl" in body:
            carried = copy.deepcopy(body["ssl"] or {})
            for write_only in ("custom_cert_bundle", "cloudflare_branding"):
                carried.pop(write_only, None)
            settings = carried.pop("settings", None)
            item["ssl"].update(carried)
            if settings is not None:
                item["ssl"]["settings"] = {**item["ssl"].get("settings", {}), **settings}
            item["ssl"]["status"] = "pending_validation"
            item["ssl"].pop("validation_records", None)  # new ones come with the next read
        return item

    def _validating(self, item: dict) -> dict:
        """Once read after it was made (or its ssl changed), a certificate waits for domain validation
        and says how: the TXT or HTTP record the certificate authority checks (ssl.validation_records)."""
        ssl = item["ssl"]
        if ssl.get("status") in ("initializing", "pending_validation") and "validation_records" not in ssl:
            token = uuid.uuid4().hex
            if ssl.get("method") == "txt":
                record = {"txt_name": f"_acme-challenge.{item['hostname']}", "txt_value": token, "status": "pending"}
            elif ssl.get("method") == "email":
                record = {"emails": [f"administrator@{item['hostname']}", f"webmaster@{item['hostname']}"],
                          "status": "pending"}
            else:
                record = {"http_url": f"http://{item['hostname']}/.well-known/pki-validation/ca3-{token}.txt",
                          "http_body": f"ca3-{uuid.uuid4().hex}", "status": "pending"}
            ssl.update({"status": "pending_validation", "validation_records": [record]})
        return item

    def list_hostnames(self, zone_id: str, request: Request) -> dict:
        items = sorted((self._validating(h) for h in self.hostnames[zone_id].values()), key=lambda h: h["created_at"])
        filters = {"hostname": "exact", "hostname.exact": "exact", "hostname.startsWith": "startswith",
                   "hostname.contain": "contains"}
        for name, operator in filters.items():
            value = request.arg(name)
            if value is not None:
                items = [h for h in items if _string_match(h["hostname"], value.lower(), operator)]
        for name, get in (("id", lambda h: h["id"]), ("ssl_status", lambda h: h["ssl"].get("status")),
                          ("hostname_status", lambda h: h["status"]),
                          ("certificate_authority", lambda h: h["ssl"].get("certificate_authority")),
                          ("custom_origin_server", lambda h: h.get("custom_origin_server"))):
            value = request.arg(name)
            if value is not None:
                items = [h for h in items if get(h) == value]
        if request.arg("wildcard") is not None:
            items = [h for h in items if bool(h["ssl"].get("wildcard")) == (request.arg("wildcard") == "true")]
        if request.arg("direction") == "desc":
            items.reverse()
        return _page([self._public(h) for h in items], request, default_per_page=20)

    # -- the fallback origin ----------------------------------------------------------------------------

    def _fallback(self, origin: str, status: str) -> dict:
        now = self.clock.iso()
        return {"origin": origin, "status": status, "errors": [], "created_at": now, "updated_at": now}

    def _fallback_route(self, zone_id: str, method: str, body: Any) -> Any:
        if method == "PUT":
            origin = str(body.get("origin") or "").rstrip(".").lower()
            _check_hostname(origin, 1415, "fallback origin hostname", allow_reserved=True)
            current = self._fallback_now(zone_id)
            fallback = self._fallback(origin, "pending_deployment")
            if current is not None and current["origin"] == origin and current["status"] != "pending_deletion":
                fallback["created_at"] = current["created_at"]
            self.fallbacks[zone_id] = fallback  # deployed (`active`) when next read, once its record is right
            if not self._fallback_record_ready(zone_id, origin):
                fallback["errors"] = [FALLBACK_DNS_ERROR]
            return envelope(self._public(fallback))
        fallback = self._fallback_now(zone_id, consume_get=method == "GET")
        if fallback is None:
            raise not_found(1551, "No fallback origin found.")
        if method == "GET":
            if fallback["status"] != "pending_deletion":
                self._deploy_fallback(zone_id, fallback)
            return envelope(self._public(fallback))
        if method == "DELETE":
            if fallback["status"] != "pending_deletion":
                fallback.update({"status": "pending_deletion", "updated_at": self.clock.iso(),
                                 "_deleting_since": self.clock.now(), "_gets_left": self.fallback_deletion_gets})
            return envelope(self._public(fallback))
        raise no_route(f"/zones/{zone_id}/custom_hostnames/fallback_origin")

    def _deploy_fallback(self, zone_id: str, fallback: dict) -> None:
        """Active once a proxied A, AAAA or CNAME record of that name exists; pending with Cloudflare's
        error otherwise."""
        ready = self._fallback_record_ready(zone_id, fallback["origin"])
        status, errors = ("active", []) if ready else ("pending_deployment", [FALLBACK_DNS_ERROR])
        if (status, errors) != (fallback["status"], fallback["errors"]):
            fallback.update({"status": status, "errors": errors, "updated_at": self.clock.iso()})

    def _fallback_record_ready(self, zone_id: str, origin: str) -> bool:
        return any(r["name"] == origin and r["proxied"] and r["type"] in ("A", "AAAA", "CNAME")
                   for r in self.records[zone_id].values())

    def _fallback_now(self, zone_id: str, consume_get: bool = False) -> dict | None:
        """The zone's fallback origin, or None once an asynchronous deletion has finished."""
        fallback = self.fallbacks.get(zone_id)
        if fallback is None or fallback["status"] != "pending_deletion":
            return fallback
        elapsed = self.clock.now() - fallback.get("_deleting_since", self.clock.now())
        if fallback.get("_gets_left", 0) <= 0 and elapsed >= self.fallback_deletion_seconds:
            del self.fallbacks[zone_id]
            return None
        if consume_get and fallback.get("_gets_left", 0) > 0:
            fallback["_gets_left"] -= 1
        return fallback

    # -- zone settings ----------------------------------------------------------------------------------

    def _setting(self, zone_id: str, setting_id: str, method: str, body: Any) -> Any:
        if setting_id not in SETTING_VALUES:
            raise ApiError(404, 1003, f"Undefined zone setting {setting_id}")
        stored = self.settings[zone_id].setdefault(setting_id, {"value": SETTING_DEFAULTS[setting_id],
                                                                 "modified_on": None})
        if method == "PATCH":
            if "value" not in body:
                raise ApiError(400, 1007, "Invalid value for zone setting " + setting_id, pointer="/value")
            if body["value"] not in SETTING_VALUES[setting_id]:
                raise ApiError(400, 1007, f"Invalid value for zone setting {setting_id}", pointer="/value")
            stored.update({"value": body["value"], "modified_on": self.clock.iso()})
        elif method != "GET":
            raise no_route(f"/zones/{zone_id}/settings/{setting_id}")
        return envelope({"id": setting_id, "value": stored["value"], "editable": True,
                         "modified_on": stored["modified_on"]})

    # -- rulesets --------------------------------------------------------------------------------------

    def _rulesets_route(self, request: Request, zone_id: str, rest: list[str], body: Any) -> Any:
        method = request.method
        if not rest:
            if method == "GET":
                summaries = [{k: v for k, v in r.items() if k != "rules"} for r in self.rulesets[zone_id].values()]
                return envelope(summaries)
            if method == "POST":
                return envelope(self.create_ruleset(zone_id, body))
        elif len(rest) == 3 and rest[0] == "phases" and rest[2] == "entrypoint":
            phase = rest[1]
            current = self._entrypoint(zone_id, phase)
            if method == "GET":
                if current is None:
                    raise not_found(10003, f"could not find entrypoint ruleset in the {phase} phase")
                return envelope(current)
            if method == "PUT":
                if current is None:
                    return envelope(self._store_ruleset(zone_id, {**body, "kind": "zone", "phase": phase,
                                                                  "name": body.get("name") or "default"}))
                return envelope(self._update_ruleset(current, body))
        elif len(rest) == 1:
            ruleset = self.rulesets[zone_id].get(rest[0])
            if ruleset is None:
                raise not_found(10003, "could not find ruleset " + rest[0])
            if method == "GET":
                return envelope(ruleset)
            if method == "PUT":
                return envelope(self._update_ruleset(ruleset, body))
            if method == "DELETE":
                del self.rulesets[zone_id][ruleset["id"]]
                return Response(204, None)
        raise no_route(request.path)

    def _entrypoint(self, zone_id: str, phase: str) -> dict | None:
        return next((r for r in self.rulesets[zone_id].values() if r["kind"] == "zone" and r["phase"] == phase), None)

    def create_ruleset(self, zone_id: str, body: dict) -> dict:
        kind, phase = body.get("kind"), body.get("phase")
        if kind not in ZONE_RULESET_KINDS:
            raise ApiError(400, 20217, f"'{kind}' is not a valid value for kind", pointer="/kind")
        if kind == "zone" and self._entrypoint(zone_id, phase) is not None:
            raise ApiError(400, 20217, f"'zone' is not a valid value for kind because exceeded maximum number of "
                                       f"zone rulesets for phase {phase}", pointer="/kind")
        return self._store_ruleset(zone_id, body)

    def _store_ruleset(self, zone_id: str, body: dict) -> dict:
        ruleset = {"id": body.get("id") or new_id(), "name": body.get("name") or "default",
                   "description": body.get("description", ""), "kind": body.get("kind", "zone"),
                   "phase": body["phase"], "version": "1", "last_updated": self.clock.iso()}
        ruleset["rules"] = self._rules(body.get("rules") or [], [], ruleset["version"])
        self.rulesets[zone_id][ruleset["id"]] = ruleset
        return ruleset

    def _update_ruleset(self, ruleset: dict, body: dict) -> dict:
        for fixed in ("kind", "phase"):
            if body.get(fixed) not in (None, ruleset[fixed]):
                raise ApiError(400, 20217, f"'{body[fixed]}' is not a valid value for {fixed}: a ruleset's {fixed} "
                                           "cannot be changed", pointer=f"/{fixed}")
        version = str(int(ruleset["version"]) + 1)
        ruleset.update({"version": version, "last_updated": self.clock.iso(),
                        "rules": self._rules(body.get("rules") or [], ruleset["rules"], version)})
        for key in ("name", "description"):
            if key in body:
                ruleset[key] = body[key]
        return ruleset

    def _rules(self, rules: list[dict], previous: list[dict], version: str) -> list[dict]:
        known = {r["id"]: r for r in previous}
        stored = []
        for index, rule in enumerate(rules):
            if not rule.get("expression"):
                raise ApiError(400, 20021, "'expression' is required", pointer=f"/rules/{index}/expression")
            if not rule.get("action"):
                raise ApiError(400, 20021, "'action' is required", pointer=f"/rules/{index}/action")
            rule_id = rule.get("id") if rule.get("id") in known else new_id()
            same = known.get(rule_id)
            unchanged = same is not None and all(same.get(k) == v for k, v in rule.items()
                                                 if k not in ("id", "version", "last_updated"))
            stored.append({**rule, "id": rule_id, "ref": rule.get("ref") or rule_id,
                           "enabled": rule.get("enabled", True),
                           "version": same["version"] if unchanged else version,
                           "last_updated": same["last_updated"] if unchanged else self.clock.iso()})
        return stored

    # -- Authenticated Origin Pulls --------------------------------------------------------------------

    def _aop_route(self, request: Request, zone_id: str, rest: list[str], body: Any) -> Any:
        if rest == ["settings"]:
            if request.method == "PUT":
                self.aop_settings[zone_id] = {"enabled": bool(body["enabled"])}
            return envelope(dict(self.aop_settings[zone_id]))
        certificates = self.aop_certificates[zone_id]
        return self._collection(request, rest, certificates, not_found(1400, "Certificate not found."), {
            "GET": lambda: envelope(list(certificates.values())),
            "POST": lambda: envelope(self._upload_certificate(zone_id, body)),
        }, {
            "GET": envelope,
            "DELETE": lambda item: envelope({**certificates.pop(item["id"]), "status": "pending_deletion"}),
        })

    def _upload_certificate(self, zone_id: str, body: dict) -> dict:
        certificate, key = str(body.get("certificate", "")), str(body.get("private_key", ""))
        if "BEGIN CERTIFICATE" not in certificate or "PRIVATE KEY" not in key:
            raise ApiError(400, 1402, "The certificate or private key is not a valid PEM block.")
        expires = datetime.fromtimestamp(self.clock.now() + 365 * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        item = {"id": new_id(), "certificate": certificate, "issuer": "", "signature": "", "status": "active",
                "uploaded_on": self.clock.iso(), "expires_on": expires, "enabled": False}
        self.aop_certificates[zone_id][item["id"]] = item
        return item

    # -- notifications ---------------------------------------------------------------------------------

    def _alerting_route(self, request: Request, account_id: str, rest: list[str], body: Any) -> Any:
        policies, webhooks = self.policies[account_id], self.webhooks[account_id]
        if rest[:1] == ["policies"]:
            return self._collection(request, rest[1:], policies, not_found(17003, "Policy not found."), {
                "GET": lambda: envelope(list(policies.values())),
                "POST": lambda: self._store_policy(account_id, body, new_id(), self.clock.iso()),
            }, {
                "GET": envelope,
                "PUT": lambda policy: self._store_policy(account_id, body, policy["id"], policy["created"]),
                "DELETE": lambda policy: _removed(policies, policy["id"]),
            })
        if rest[:2] == ["destinations", "webhooks"]:
            return self._collection(request, rest[2:], webhooks, not_found(17003, "Webhook not found."), {
                "GET": lambda: envelope([self._webhook_public(w) for w in webhooks.values()]),
                "POST": lambda: Response(201, self._store_webhook(account_id, body, new_id(), self.clock.iso())),
            }, {
                "GET": lambda webhook: envelope(self._webhook_public(webhook)),
                "PUT": lambda webhook: self._store_webhook(account_id, body, webhook["id"], webhook["created_at"]),
                "DELETE": lambda webhook: self._delete_webhook(account_id, webhook),
            })
        raise no_route(request.path)

    def _store_policy(self, account_id: str, body: dict, policy_id: str, created: str) -> dict:
        self.policies[account_id][policy_id] = self._policy(account_id, body, policy_id, created)
        return envelope({"id": policy_id})

    def _store_webhook(self, account_id: str, body: dict, webhook_id: str, created_at: str) -> dict:
        self.webhooks[account_id][webhook_id] = self._webhook(body, webhook_id, created_at)
        return envelope({"id": webhook_id})

    def _delete_webhook(self, account_id: str, webhook: dict) -> dict:
        if any(webhook["id"] in _webhook_ids(p) for p in self.policies[account_id].values()):
            raise ApiError(400, 17103, "The webhook is used by a notification policy.")
        return _removed(self.webhooks[account_id], webhook["id"])

    def _policy(self, account_id: str, body: dict, policy_id: str, created: str) -> dict:
        for index, hook in enumerate((body.get("mechanisms") or {}).get("webhooks") or []):
            if hook.get("id") not in self.webhooks[account_id]:
                raise ApiError(400, 17102, f"The webhook destination {hook.get('id')} does not exist.",
                               pointer=f"/mechanisms/webhooks/{index}/id")
        for index, mail in enumerate((body.get("mechanisms") or {}).get("email") or []):
            if "@" not in str(mail.get("id", "")):
                raise ApiError(400, 17101, f"{mail.get('id')!r} is not an e-mail address.",
                               pointer=f"/mechanisms/email/{index}/id")
        policy = {k: copy.deepcopy(v) for k, v in body.items()}
        policy.update({"id": policy_id, "created": created, "modified": self.clock.iso()})
        policy.setdefault("description", "")
        policy.setdefault("filters", {})
        return policy

    def _webhook(self, body: dict, webhook_id: str, created_at: str) -> dict:
        url = str(body.get("url") or "")
        if not re.match(r"^https?://[^/\s]+", url):
            raise ApiError(400, 17100, "The webhook URL is not valid.", pointer="/url")
        webhook = {"id": webhook_id, "name": body["name"], "url": url, "type": "generic",
                   "created_at": created_at, "_secret": body.get("secret")}
        self._send_test(webhook)
        return webhook

    def _send_test(self, webhook: dict) -> None:
        """Cloudflare sends a test message to a new or changed webhook; here only to loopback URLs."""
        delivery = {"webhook_id": webhook["id"], "url": webhook["url"], "time": self.clock.now(),
                    "body": {"name": webhook["name"], "text": WEBHOOK_TEST_TEXT, "data": {},
                             "ts": int(self.clock.now())},
                    "headers": {"Content-Type": "application/json"}, "status": None, "error": None}
        if webhook.get("_secret"):
            delivery["headers"]["cf-webhook-auth"] = webhook["_secret"]
        self.deliveries.append(delivery)
        host = urllib.request.urlparse(webhook["url"]).hostname or ""
        if not self.webhook_tests or not _loopback(host):
            delivery["error"] = "not sent: only loopback URLs are reached"
            return
        request = urllib.request.Request(webhook["url"], data=json.dumps(delivery["body"]).encode(),
                                         headers=delivery["headers"], method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                delivery["status"] = answer.status
        except urllib.error.HTTPError as err:
            delivery["status"] = err.code
        except OSError as err:
            delivery["error"] = str(err)
        if delivery["status"] is None or not 200 <= delivery["status"] < 300:
            raise ApiError(400, 17104, f"The test message to the webhook failed: "
                                       f"{delivery['status'] or delivery['error']}", pointer="/url")
        webhook["last_success"] = self.clock.iso()

    @staticmethod
    def _webhook_public(webhook: dict) -> dict:
        return {k: v for k, v in webhook.items() if not k.startswith("_")}  # the secret is never read back


# -- helpers ------------------------------------------------------------------------------------------


def _query_value(raw: str, kind: str | None) -> Any:
    """A query string value as the type its schema declares (left a string when it is not one)."""
    try:
        if kind in ("number", "integer"):
            number = float(raw)
            return int(number) if number.is_integer() else number
    except ValueError:
        return raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _removed(store: dict, key: str) -> dict:
    """Delete one item; the alerting API answers a deletion with an empty result."""
    del store[key]
    return envelope(None)


def _envelope_problems(response: Response) -> list[dict]:
    """The emulator's own answers checked in process: Cloudflare's envelope, whatever Prism says."""
    if response.status == 204:
        return [] if response.body is None else [_problem("a 204 answer has a body")]
    if response.bare:
        return []
    body = response.body
    if not isinstance(body, dict):
        return [_problem("the answer is not a JSON object")]
    missing = [k for k in ("success", "errors", "messages") if k not in body]
    problems = [_problem(f"the envelope lacks {', '.join(missing)}")] if missing else []
    if body.get("success") is not (response.status < 400):
        problems.append(_problem(f"success is {body.get('success')!r} with HTTP {response.status}"))
    if response.status >= 400 and not body.get("errors"):
        problems.append(_problem("an error answer without errors"))
    return problems


def _problem(message: str) -> dict:
    return {"location": ["response", "envelope"], "severity": "Error", "code": "emulator", "message": message}


def parse_json(raw: bytes) -> tuple[Any, str | None]:
    if not raw.strip():
        return None, None
    try:
        return json.loads(raw), None
    except ValueError as err:
        return None, str(err)


def _page(items: list, request: Request, *, default_per_page: int) -> dict:
    try:
        page = max(1, int(float(request.arg("page") or 1)))
        per_page = max(1, int(float(request.arg("per_page") or default_per_page)))
    except ValueError:
        raise ApiError(400, 1004, "page and per_page must be numbers") from None
    chunk = items[(page - 1) * per_page: page * per_page]
    info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items),
            "total_pages": max(1, math.ceil(len(items) / per_page))}
    return envelope(chunk, info)


def _string_match(value: str | None, wanted: str, operator: str = "exact") -> bool:
    value = value or ""
    if operator == "contains":
        return wanted.lower() in value.lower()
    if operator == "startswith":
        return value.lower().startswith(wanted.lower())
    if operator == "endswith":
        return value.lower().endswith(wanted.lower())
    return value.lower() == wanted.lower()


def _field_test(name: str, operator: str, value: str) -> Callable[[dict], bool]:
    if operator == ".present":
        return lambda r: bool(r.get(name))
    if operator == ".absent":
        return lambda r: not r.get(name)
    return lambda r: _string_match(r.get(name), value, operator[1:])


def _tag_test(operator: str, value: str) -> Callable[[dict], bool]:
    if operator in (".present", ".absent"):
        present = operator == ".present"
        return lambda r: any(t.split(":", 1)[0] == value for t in r["tags"]) == present
    tag_name, _, tag_value = value.partition(":")
    return lambda r: any(t.split(":", 1)[0] == tag_name and _string_match(t.partition(":")[2], tag_value, operator[1:])
                         for t in r["tags"])


def _ip(content: Any, version: int) -> None:
    try:
        address = ipaddress.ip_address(str(content))
    except ValueError:
        address = None
    if address is None or address.version != version:
        kind = "IPv4" if version == 4 else "IPv6"
        raise ApiError(400, 9005 if version == 4 else 9006, f"Content for {'A' if version == 4 else 'AAAA'} "
                                                            f"record must be a valid {kind} address.",
                       pointer="/content")


_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9-_]{0,61}[a-z0-9_])?\.)+[a-z][a-z0-9-]{0,62}$")


def _check_hostname(value: str, code: int, what: str, *, allow_reserved: bool = False) -> None:
    """Cloudflare's rules for custom hostnames (Cloudflare for SaaS status codes, custom hostnames)."""
    name = value.rstrip(".").lower()
    if not name.isascii():
        raise ApiError(400, code + 1, "Custom hostnames with non-ASCII characters are not supported. Check your "
                                      "input and try again.")
    try:
        ipaddress.ip_address(name)
        is_ip = True
    except ValueError:
        is_ip = False
    if is_ip or len(name) > 255 or not _HOSTNAME.match(name):
        raise ApiError(400, code, f"Invalid {what}. Custom hostnames have to be smaller than 256 characters in "
                                  "length, cannot be IP addresses, cannot contain any special characters such as "
                                  "``~`!@#$%^&*()=+{}[]\\|;:'\",<>/? and cannot begin or end with a '-' character. "
                                  "Check your input and try again.")
    if allow_reserved:
        return
    if name.split(".")[-1] in ("test", "example", "invalid", "localhost"):
        raise ApiError(400, code + 2, "Reserved top domain custom hostnames, such as 'test', 'example', 'invalid' "
                                      "or 'localhost', is not supported. Check your input and try again.")
    if any(name == d or name.endswith("." + d) for d in ("example.com", "example.net", "example.org")):
        raise ApiError(400, code + 4, "Custom hostnames ending in example.com, example.net, or example.org are "
                                      "prohibited. Check your input and try again.")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _webhook_ids(policy: dict) -> set[str]:
    return {w.get("id") for w in (policy.get("mechanisms") or {}).get("webhooks") or []}
