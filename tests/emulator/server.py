"""The Cloudflare emulator on loopback, behind Prism validating every request and answer against the spec.

    client (SDK, Pulumi provider) -> front door -> Prism proxy -> emulator -> state

- the **emulator** (cloudflare.py) answers like Cloudflare and keeps the state and the request log;
- **Prism** (`@stainless-api/prism-cli` 5.15, the contract tests' install: tests/contract/mock_api.py),
  `prism proxy tests/contract/cloudflare-openapi-subset.json <emulator>`, validates each request
  and each answer and names every violation in its `sl-violations` header (an operation the spec
  does not have is its warning "Selected route not found", counted here as a violation).
  Not with `--errors`, under which Prism answers an invalid request itself (422/401) instead of
  forwarding it: the spec subset holds two defects that would then stop the provider cold, a rule
  of a ruleset "requiring" its readOnly `version` and `last_updated` (so every ruleset create
  fails) and GET /ips declaring `security: [{}]` (Prism refuses the token every Cloudflare SDK
  sends). Without `--errors` those reports are judged again in process (Hops.tolerated) and the
  emulator itself refuses what Cloudflare refuses (schema.py: types, enums, required fields);
- the **front door** (the address clients get, `base_url`) reads that header into the request log,
  applies the transport faults that only the hop the client talks to can apply (closing the
  connection before forwarding, or after the emulator committed and answered), and serves the
  admin endpoints, which Prism never sees:

    GET  /__emulator/state | /__emulator/log | /__emulator/violations | /__emulator/deliveries
    POST /__emulator/faults {method, path, action, nth, times, status, retry_after, delay}; DELETE clears
    POST /__emulator/reset | /__emulator/seed {zones, dns_records, custom_hostnames, rulesets, ...}
    POST /__emulator/config {rate_limit, rate_window, fallback_deletion_gets, fallback_deletion_seconds,
                              hostname_expiry, webhook_tests, tokens}
    POST /__emulator/clock {advance: seconds} | /__emulator/expire {zone_id, hostname_id}

A test fails on any violation left in the log (fixtures.py, `assert_no_violations`). In a test:
`with CloudflareEmulator() as cf:` (or the fixtures). As a process, for a Pulumi provider in another
process: `python -m tests.emulator.server --port N --seed-file F` prints
`CLOUDFLARE_BASE_URL=http://127.0.0.1:N` once it serves, and stops on SIGTERM or SIGINT (remote.py
starts it and reads it over the admin endpoints).
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.contract.spec import SPEC_PATH
from tests.emulator.cloudflare import (
    PREFIX,
    TOKEN,
    ZONE_ID,
    Emulator,
    Exchange,
    Fault,
    Request,
    Response,
    new_id,
    parse_json,
)
from tests.fakes.loopback import loopback_server

REQUEST_ID_HEADER = "x-emulator-request-id"
ADMIN = "/__emulator/"
UPSTREAM_TIMEOUT = 120.0  # seconds; longer than any injected delay
_NOT_FORWARDED = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"}
_NOT_RETURNED = {"content-length", "connection", "transfer-encoding", "keep-alive", "date", "server"}
DROP = object()  # what a dispatcher returns to close the connection without answering


@dataclass
class Outcome:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Dispatch = Callable[[str, str, dict[str, str], bytes], Any]  # -> Outcome or DROP


def handler(dispatch: Dispatch) -> type[BaseHTTPRequestHandler]:
    """One handler class for both hops: any method, raw bytes both ways, an answer may be delayed, or
    the connection closed with no answer at all (DROP)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):
                return lambda: self.serve(name[3:])
            raise AttributeError(name)

        def serve(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            outcome = dispatch(method, self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
            if outcome is DROP:
                self.close_connection = True
                self.connection.close()  # nothing written: the client sees the connection end
                return
            if outcome.delay:
                time.sleep(outcome.delay)
            self.send_response(outcome.status)
            for name, value in outcome.headers.items():
                self.send_header(name, value)
            if outcome.status not in (204, 304):
                self.send_header("Content-Length", str(len(outcome.body)))
            self.end_headers()
            if outcome.status not in (204, 304):
                self.wfile.write(outcome.body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _split(target: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(target)
    path = parts.path[len(PREFIX):] if parts.path.startswith(PREFIX + "/") else parts.path
    return path, parse_qs(parts.query, keep_blank_values=True)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Outcome:
    data = b"" if body is None else json.dumps(body).encode()
    return Outcome(status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


class Hops:
    """The emulator's two HTTP hops and the faults handed from the front door to the emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.pending: dict[str, Fault] = {}
        self.upstream = ""  # Prism's URL, or the emulator's own without Prism
        self.lock = threading.Lock()

    # -- the emulator hop ----------------------------------------------------------------------

    def core(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Outcome:
        path, query = _split(target)
        request_id = headers.get(REQUEST_ID_HEADER, "")
        with self.lock:
            fault = self.pending.pop(request_id, None)
        response: Response = self.emulator.handle(Request(method, path, query, headers, raw, request_id), fault)
        outcome = _json(response.status, response.body, response.headers)
        outcome.delay = response.delay
        return outcome

    # -- the front door ------------------------------------------------------------------------

    def front(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
        path, query = _split(target)
        if path.startswith(ADMIN):
            return self.admin(method, path[len(ADMIN):], raw)
        request_id, generation = new_id(), self.emulator.generation
        fault = self.emulator.fault_for(method, path)
        if fault is not None and fault.action == "drop_before":
            self._note(request_id, method, path, query, raw, headers, status=None, served_by="nobody",
                       fault="drop_before")
            return DROP
        if fault is not None:
            with self.lock:
                self.pending[request_id] = fault
        forwarded = {k: v for k, v in headers.items() if k not in _NOT_FORWARDED}
        forwarded[REQUEST_ID_HEADER] = request_id
        status, answer_headers, body = self._forward(method, target, forwarded, raw)
        with self.lock:
            self.pending.pop(request_id, None)
        if generation != self.emulator.generation:  # the emulator was reset meanwhile: another test's log
            return Outcome(status, body, {k: v for k, v in answer_headers.items() if k.lower() not in _NOT_RETURNED})
        entry = self._entry(request_id)
        if entry is None:  # Prism answered by itself (it failed), or the emulator's hop did
            entry = self._note(request_id, method, path, query, raw, headers, status=status, served_by="prism")
            entry.response = _parsed(body)
        entry.status = status
        for violation in _violations(answer_headers, body):
            reason = self.tolerated(method, path, violation, entry)
            if reason is None:
                entry.violations.append(violation)
            else:
                entry.tolerated.append({**violation, "reason": reason})
        if fault is not None and fault.action == "drop_after":
            return DROP
        returned = {k: v for k, v in answer_headers.items() if k.lower() not in _NOT_RETURNED}
        return Outcome(status, body, returned)

    def tolerated(self, method: str, path: str, violation: dict, entry: Exchange) -> str | None:
        """Why a violation Prism reports is not one, or None. Two known false reports, both checked
        again here rather than ignored:

        - an operation whose spec security is `[{}]` (GET /ips: no credentials needed): Prism's check
          of "no security" fails any request that carries credentials, and Cloudflare's SDKs (the
          provider's too) send the token on every request;
        - rulesets: `rulesets_RequestRule` requires the readOnly `version` and `last_updated` of a
          rule, which Prism demands in requests (it exempts readOnly properties only at the top of a
          body), so every rule fails all the branches of its anyOf. The emulator's own check of the
          body (schema.py, readOnly exempt, every branch tried) decides instead: tolerated only
          when it found nothing wrong in `rules`.
        """
        spec = self.emulator.spec
        template = spec.route(path)
        location = list(violation.get("location") or [])
        if template is None or method.lower() not in spec.document["paths"][template]:
            return None
        operation = spec.operation(template, method.lower())
        if location == ["request"] and violation.get("code") == 401 and operation.get("security") == [{}]:
            return "Prism refuses credentials on an operation that needs none; Cloudflare's SDKs always send them"
        if "/rulesets" in template and (location[:3] == ["request", "body", "rules"] or (
                violation.get("code") == "truncated" and all(
                    v.get("location", [])[:3] == ["request", "body", "rules"] for v in entry.tolerated))):
            own = [v for v in entry.violations if str(v.get("message", "")).startswith("body.rules")]
            if not own:
                return "Prism requires the readOnly version and last_updated of each rule; the emulator's check passed"
        if "/dns_records" in template and location[:1] in (["response"], ["prism"]) and (entry.status or 0) < 300:
            if self._record_answer_passes(entry, operation):
                return ("Cloudflare answers comment null and no data for records without them, which the spec's "
                        "record schema requires; with them filled in, the answer passes the emulator's check")
        if location == ["response", "body", "result"] and (entry.status or 0) >= 400 \
                and isinstance(entry.response, dict) and entry.response.get("result") is None:
            answer = operation["responses"].get("4XX") or operation["responses"].get(str(entry.status))
            content = (spec.resolve(answer or {}).get("content") or {}).get("application/json", {})
            result = spec.resolve(spec.shape(content.get("schema", {})).properties.get("result", {}))
            if result.get("enum") == [None]:
                return "the spec's error schema says `enum: [null]` for result without `nullable` (OpenAPI 3.0)"
        return None

    def _record_answer_passes(self, entry: Exchange, operation: dict) -> bool:
        """A DNS record answer with `comment` and `data` filled in as the spec wants them, checked against the
        operation's 200 schema in process (readOnly, anyOf branches and all)."""
        from tests.emulator import schema

        spec = self.emulator.spec
        body = json.loads(json.dumps(entry.response))
        if not isinstance(body, dict):
            return False
        result = body.get("result")
        for record in result if isinstance(result, list) else [result]:
            if isinstance(record, dict):
                record.setdefault("data", {})
                if record.get("comment") is None:
                    record["comment"] = ""
        answer = spec.resolve(operation["responses"].get("200") or {})
        wanted = (answer.get("content") or {}).get("application/json", {}).get("schema")
        return wanted is not None and not schema.check(spec, body, wanted, request=False)

    def _forward(self, method: str, target: str, headers: dict[str, str],
                 raw: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=UPSTREAM_TIMEOUT)
        try:
            path, _ = _split(target)
            query = urlsplit(target).query
            connection.request(method, path + (f"?{query}" if query else ""), body=raw or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        except OSError as err:
            body = {"success": False, "errors": [{"code": 10000, "message": f"emulator upstream failed: {err}"}],
                    "messages": [], "result": None}
            return 502, {"content-type": "application/json", "x-emulator-upstream-error": str(err)}, \
                json.dumps(body).encode()
        finally:
            connection.close()

    def _entry(self, request_id: str) -> Exchange | None:
        with self.emulator.lock:
            return next((e for e in reversed(self.emulator.log) if e.id == request_id), None)

    def _note(self, request_id: str, method: str, path: str, query: dict, raw: bytes, headers: dict[str, str],
              **values: Any) -> Exchange:
        probe = Request(method, path, query, headers, raw)
        entry = Exchange(request_id, self.emulator.clock.now(), method, path, query, _parsed(raw), probe.token,
                         **values)
        with self.emulator.lock:
            self.emulator.log.append(entry)
        return entry

    # -- admin -----------------------------------------------------------------------------------

    def admin(self, method: str, what: str, raw: bytes) -> Outcome:
        emulator = self.emulator
        body = _parsed(raw) or {}
        try:
            if method == "GET" and what == "state":
                return _json(200, emulator.state())
            if method == "GET" and what == "log":
                return _json(200, [e.public() for e in list(emulator.log)])
            if method == "GET" and what == "violations":
                return _json(200, violations(emulator.log))
            if method == "GET" and what == "deliveries":
                return _json(200, emulator.deliveries)
            if what == "faults" and method == "POST":
                return _json(200, emulator.add_fault(**body).public())
            if what == "faults" and method == "DELETE":
                emulator.faults.clear()
                return _json(200, [])
            if what == "faults" and method == "GET":
                return _json(200, [f.public() for f in emulator.faults])
            if method == "POST" and what == "reset":
                emulator.reset()
                return _json(200, {})
            if method == "POST" and what == "seed":
                emulator.seed(body)
                return _json(200, emulator.state())
            if method == "POST" and what == "config":
                configure(emulator, **body)
                return _json(200, {})
            if method == "POST" and what == "clock":
                emulator.clock.advance(float(body.get("advance", 0)))
                return _json(200, {"now": emulator.clock.now()})
            if method == "POST" and what == "expire":
                emulator.expire_hostname(body["zone_id"], body["hostname_id"])
                return _json(200, {})
        except (TypeError, ValueError, KeyError) as err:
            return _json(400, {"error": str(err)})
        return _json(404, {"error": f"no admin endpoint {method} {ADMIN}{what}"})


def configure(emulator: Emulator, **options: Any) -> None:
    """Change the emulator's limits and timings while it runs."""
    allowed = {"rate_limit", "rate_window", "fallback_deletion_gets", "fallback_deletion_seconds",
               "hostname_expiry", "webhook_tests"}
    with emulator.lock:
        for key, value in options.items():
            if key == "tokens":
                emulator.tokens = set(value)
            elif key in allowed:
                setattr(emulator, key, value)
            else:
                raise KeyError(f"unknown emulator option {key!r}")
        if {"rate_limit", "rate_window"} & set(options):
            emulator._hits.clear()
            emulator._blocked.clear()


def _parsed(raw: bytes) -> Any:
    """A JSON body, or its text when it is not JSON (None when empty)."""
    body, error = parse_json(raw)
    return raw.decode(errors="replace") if error else body


def _violations(headers: dict[str, str], body: bytes) -> list[dict]:
    """What Prism reported: its sl-violations header, and its own refusals (problem+json answers)."""
    found: list[dict] = []
    header = headers.get("sl-violations")
    if header:
        try:
            found.extend(json.loads(header))
        except ValueError:  # "Too many violations! [..." (Prism cuts the header at 8 KiB): the whole ones
            found.extend(_truncated(header))
    if headers.get("content-type", "").startswith("application/problem+json"):
        problem = _parsed(body) or {}
        detail = problem.get("detail") if isinstance(problem, dict) else None
        title = problem.get("title") if isinstance(problem, dict) else None
        if not found or title not in ("Invalid request", "Invalid security scheme used"):
            found.append({"location": ["prism"], "severity": "Error", "code": problem.get("type", "prism")
                          if isinstance(problem, dict) else "prism", "message": f"{title}: {detail}"})
    for violation in found:
        if violation.get("message") == "Selected route not found":  # an operation the subset does not have
            violation.update(severity="Error", message="Selected route not found: the spec subset has no such "
                                                       "operation")
    if headers.get("x-emulator-upstream-error"):
        found.append({"location": ["upstream"], "severity": "Error", "code": "upstream",
                      "message": headers["x-emulator-upstream-error"]})
    return found


def _truncated(header: str) -> list[dict]:
    """The complete violations at the start of a header Prism cut short, and one saying it was cut."""
    decoder, found = json.JSONDecoder(), []
    text = header[header.find("[") + 1:]
    position = 0
    while True:
        while position < len(text) and text[position] in ", ":
            position += 1
        try:
            item, position = decoder.raw_decode(text, position)
        except ValueError:
            break
        found.append(item)
    found.append({"location": ["prism"], "severity": "Error", "code": "truncated",
                  "message": f"Prism cut its sl-violations header after {len(found)} violations"})
    return found


def violations(log: list[Exchange], *, severity: str = "Error") -> list[str]:
    """Every violation of the given severity in the log, one line each: 'METHOD path: location message'."""
    return [f"{e.method} {e.path}: {'.'.join(map(str, v.get('location') or []))} {v.get('message')}"
            for e in list(log) for v in e.violations if v.get("severity", "Error") == severity]


class SpecViolations(AssertionError):
    """Requests or answers that Cloudflare's OpenAPI spec does not allow."""


def assert_no_violations(cf: CloudflareEmulator) -> None:
    """The collector: raise SpecViolations naming every violation in the emulator's log."""
    found = cf.violations()
    if found:
        raise SpecViolations(f"{len(found)} request(s) or answer(s) break Cloudflare's OpenAPI spec (Prism's log: "
                             f"{cf.logs}):\n" + "\n".join(f"  {line}" for line in found[:40]))


# -- Prism --------------------------------------------------------------------------------------------


class PrismUnavailable(RuntimeError):
    """Prism (or the node that runs it) could not be installed or started here."""


@contextmanager
def prism_proxy(upstream: str, logs: Path) -> Iterator[str]:
    """`prism proxy <spec subset> <upstream>` on a loopback port; yields its URL (see the module's docstring
    for why without `--errors`)."""
    from tests.contract.mock_api import PrismProcess, start_all

    logs.mkdir(parents=True, exist_ok=True)
    process = PrismProcess(("proxy", str(SPEC_PATH), upstream), logs / "prism-proxy.log")
    try:
        try:
            start_all([process])
        except (AssertionError, OSError) as err:
            raise PrismUnavailable(str(err)) from err
        yield process.url
    finally:
        process.stop()


# -- the whole thing in a test -------------------------------------------------------------------------


class CloudflareEmulator:
    """`with CloudflareEmulator() as cf:` — cf.base_url for CLOUDFLARE_BASE_URL, cf.token, the state
    (cf.state(), cf.hostnames(), cf.records(), cf.fallback_origin(), cf.rulesets()...), cf.requests (the log),
    cf.violations(), cf.add_fault(...), cf.rate_limit(limit, window), cf.seed(...), cf.reset()."""

    def __init__(self, *, prism: bool = True, logs: Path | None = None, seed: dict | None = None,
                 **options: Any) -> None:
        self.emulator = Emulator(**options)
        self.hops = Hops(self.emulator)
        self.use_prism = prism
        self.logs = logs or Path(tempfile.gettempdir()) / f"cloudflare-emulator-{new_id()[:8]}"
        self.initial_seed = seed
        self.base_url = ""
        self.emulator_url = ""
        self.prism_url: str | None = None
        self._stack = ExitStack()

    def start_backend(self, stack: ExitStack) -> None:
        """The emulator and, in front of it, Prism; the front door is the caller's to open."""
        self.emulator_url = stack.enter_context(loopback_server(handler(self.hops.core)))
        self.hops.upstream = self.emulator_url
        if self.use_prism:
            self.prism_url = stack.enter_context(prism_proxy(self.emulator_url, self.logs))
            self.hops.upstream = self.prism_url
        if self.initial_seed:
            self.seed(self.initial_seed)

    def __enter__(self) -> CloudflareEmulator:
        try:
            self.start_backend(self._stack)
            self.base_url = self._stack.enter_context(loopback_server(handler(self.hops.front)))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    # -- reading ----------------------------------------------------------------------------------

    token = TOKEN
    zone_id = ZONE_ID

    @property
    def requests(self) -> list[Exchange]:
        return list(self.emulator.log)

    def state(self) -> dict:
        return self.emulator.state()

    def hostnames(self, zone_id: str = ZONE_ID) -> list[dict]:
        return sorted(self.state()["custom_hostnames"][zone_id].values(), key=lambda h: h["hostname"])

    def hostname(self, name: str, zone_id: str = ZONE_ID) -> dict | None:
        return next((h for h in self.hostnames(zone_id) if h["hostname"] == name), None)

    def records(self, zone_id: str = ZONE_ID) -> list[dict]:
        return sorted(self.state()["dns_records"][zone_id].values(), key=lambda r: (r["name"], r["type"]))

    def fallback_origin(self, zone_id: str = ZONE_ID) -> dict | None:
        return self.state()["fallback_origins"].get(zone_id)

    def rulesets(self, zone_id: str = ZONE_ID) -> list[dict]:
        return list(self.state()["rulesets"][zone_id].values())

    def deliveries(self) -> list[dict]:
        return list(self.emulator.deliveries)

    def calls(self, method: str | None = None, path_contains: str = "") -> list[Exchange]:
        return [e for e in self.requests if (method is None or e.method == method) and path_contains in e.path]

    def violations(self) -> list[str]:
        return violations(self.emulator.log)

    def take_violations(self) -> list[str]:
        """The violations so far, then forgotten (for a test that provokes them on purpose)."""
        with self.emulator.lock:
            found = violations(self.emulator.log)
            for entry in self.emulator.log:
                entry.violations = [v for v in entry.violations if v.get("severity", "Error") != "Error"]
        return found

    # -- steering ---------------------------------------------------------------------------------

    def add_fault(self, method: str, path: str, action: str, **options: Any) -> Fault:
        return self.emulator.add_fault(method=method, path=path, action=action, **options)

    def rate_limit(self, limit: int, window: float) -> None:
        configure(self.emulator, rate_limit=limit, rate_window=window)

    def configure(self, **options: Any) -> None:
        configure(self.emulator, **options)

    def seed(self, data: dict) -> None:
        self.emulator.seed(json.loads(json.dumps(data)))

    def reset(self) -> None:
        self.emulator.reset()

    def advance(self, seconds: float) -> None:
        self.emulator.clock.advance(seconds)


# -- as a process ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="the front door's port (0: any free one)")
    parser.add_argument("--seed-file", type=Path, help="JSON state to start from (see Emulator.seed)")
    parser.add_argument("--token", action="append", help="an accepted bearer token (repeatable)")
    parser.add_argument("--no-prism", action="store_true", help="serve without the validating proxy")
    parser.add_argument("--rate-limit", type=int)
    parser.add_argument("--rate-window", type=float)
    parser.add_argument("--fallback-deletion-gets", type=int)
    parser.add_argument("--fallback-deletion-seconds", type=float)
    parser.add_argument("--logs", type=Path, help="where Prism's log goes")
    args = parser.parse_args(argv)
    options = {k: v for k, v in {"rate_limit": args.rate_limit, "rate_window": args.rate_window,
                                 "fallback_deletion_gets": args.fallback_deletion_gets,
                                 "fallback_deletion_seconds": args.fallback_deletion_seconds}.items()
               if v is not None}
    if args.token:
        options["tokens"] = tuple(args.token)
    seed = json.loads(args.seed_file.read_text()) if args.seed_file else None
    cf = CloudflareEmulator(prism=not args.no_prism, logs=args.logs, seed=seed, **options)
    with ExitStack() as stack:
        cf.start_backend(stack)
        server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(cf.hops.front))
        server.daemon_threads = True
        stack.callback(server.server_close)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
        print(f"CLOUDFLARE_BASE_URL=http://127.0.0.1:{server.server_address[1]}", flush=True)
        try:
            server.serve_forever(poll_interval=0.05)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
