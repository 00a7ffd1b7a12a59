"""The end-to-end test's logic: settings from the environment, bounded waits, and reading HTTP answers.

Nothing here touches a network or the Pulumi CLI unless it is handed something that does, so the
offline suite (tests/e2e/test_e2e_harness.py) tests it all; tests/e2e/test_e2e_stack.py wires it to
the real clouds. Environment variables:

required  CLOUDFLARE_API_TOKEN; AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE, a web-identity token
          file or container credentials); SAAS_DOMAINS_E2E_ZONE (a test zone with Cloudflare for SaaS,
          used by no other stack); SAAS_DOMAINS_E2E_HOSTNAME (a hostname outside that zone whose DNS the
          tester controls, CNAME'd to e2e.cname.<zone>); SAAS_DOMAINS_E2E_REGION; the `pulumi` CLI and
          `uv` (on PATH, or the project's .uv/bin/uv).
optional  SAAS_DOMAINS_E2E_ZONE_ID, SAAS_DOMAINS_E2E_ORIGIN_AUTH (header | mtls | none, default header),
          SAAS_DOMAINS_E2E_VPC_ID with SAAS_DOMAINS_E2E_SUBNET_IDS (comma-separated), SAAS_DOMAINS_E2E_BACKEND_URL
          (keep the throw-away state somewhere lasting, e.g. s3://...; then PULUMI_CONFIG_PASSPHRASE is
          required), SAAS_DOMAINS_E2E_POLICY_PACK (a policy pack directory to run with `up`),
          SAAS_DOMAINS_E2E_EXPECT_STATUS / SAAS_DOMAINS_E2E_EXPECT_BODY (the answer through Cloudflare;
          default the ALB's own 503 for an empty target group), SAAS_DOMAINS_E2E_ACTIVE_TIMEOUT and
          SAAS_DOMAINS_E2E_ANSWER_TIMEOUT (seconds), SAAS_DOMAINS_E2E_REQUIRED=1 (fail instead of
          skipping when something above is missing: what CI sets, so a lost secret cannot pass as a skip).
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from infra.model.settings import ORIGIN_AUTH_MODES, PROJECT
from infra.operations.custom_hostname_fields import certificate_status, hostname_status
from infra.operations.status import PROBLEM, assess_hostname

PROJECT_ROOT = Path(__file__).resolve().parents[2]

PREFIX = "SAAS_DOMAINS_E2E_"
ZONE, HOSTNAME, REGION = f"{PREFIX}ZONE", f"{PREFIX}HOSTNAME", f"{PREFIX}REGION"
REQUIRED = f"{PREFIX}REQUIRED"
BACKEND_URL = f"{PREFIX}BACKEND_URL"
TOKEN = "CLOUDFLARE_API_TOKEN"
PASSPHRASE = "PULUMI_CONFIG_PASSPHRASE"
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
CUSTOMER_ID = "e2e"  # the tester's hostname CNAMEs to e2e.cname.<zone>
CNAME_SUBDOMAIN = "cname"  # the program's default cnameSubdomain, which the e2e stack keeps
ALB_EMPTY_TARGET_GROUP_BODY = "503 Service Temporarily Unavailable"  # the ALB's own page, no targets
# The HTTPS listener's fixed 403 without origin authentication (infra/components/origin.py).
ALB_REFUSAL_BODY = "Forbidden"

T = TypeVar("T")


class E2EConfigError(ValueError):
    """An e2e variable is set but malformed: a mistake to report, not a reason to skip."""


# -- what is needed, and whether to run --------------------------------------------------------------


def missing_requirements(environ: Mapping[str, str], which: Callable[[str], str | None] = shutil.which,
                         project_root: Path = PROJECT_ROOT) -> list[str]:
    """What the e2e test needs and this machine lacks, in words a person can act on."""

    def present(name: str) -> bool:
        return bool((environ.get(name) or "").strip())

    missing = [name for name in (TOKEN,) if not present(name)]
    if not any(present(name) for name in AWS_CREDENTIAL_VARIABLES):
        missing.append("AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE or AWS_WEB_IDENTITY_TOKEN_FILE)")
    missing += [name for name in (ZONE, HOSTNAME, REGION) if not present(name)]
    if present(BACKEND_URL) and not present(PASSPHRASE):
        missing.append(f"{PASSPHRASE} (needed with {BACKEND_URL}, to reopen that state later)")
    if which("pulumi") is None:
        missing.append("the pulumi CLI on PATH")
    if which("uv") is None and not (project_root / ".uv" / "bin" / "uv").is_file():
        missing.append("uv on PATH or in .uv/bin (Pulumi runs the program with the uv toolchain)")
    return missing


@dataclass(frozen=True)
class Gate:
    run: bool
    fail: bool  # when not running: fail (CI asked for the test) rather than skip
    reason: str


def gate(environ: Mapping[str, str], which: Callable[[str], str | None] = shutil.which,
         project_root: Path = PROJECT_ROOT) -> Gate:
    missing = missing_requirements(environ, which, project_root)
    if not missing:
        return Gate(run=True, fail=False, reason="")
    required = (environ.get(REQUIRED) or "").strip().lower() in ("1", "true", "yes")
    reason = (f"end-to-end test needs real credentials; missing: {', '.join(missing)} "
              "(docs/contributors.md: End-to-end test)")
    return Gate(run=False, fail=required, reason=reason)


# -- the stack's settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class E2EConfig:
    zone: str
    hostname: str
    region: str
    zone_id: str = ""
    origin_auth: str = "header"
    vpc_id: str = ""
    subnet_ids: tuple[str, ...] = ()
    backend_url: str = ""
    policy_pack: str = ""
    expect_status: int = 503
    expect_body: str = ALB_EMPTY_TARGET_GROUP_BODY
    active_timeout: float = 900.0  # custom hostname and certificate active
    answer_timeout: float = 300.0  # the first real answer through Cloudflare after that
    poll_interval: float = 15.0
    direct_timeout: float = 5.0  # one connection attempt straight to the ALB

    @property
    def cname_target(self) -> str:
        return f"{CUSTOMER_ID}.{CNAME_SUBDOMAIN}.{self.zone}"

    def customers_yaml(self) -> str:
        return ("# Written by the end-to-end test for its throw-away stack.\n"
                f"customers:\n  - id: {CUSTOMER_ID}\n    hostnames: [\"{self.hostname}\"]\n")

    def stack_config(self, customers_file: Path) -> dict[str, str]:
        """Top-level config of the throw-away stack, as `pulumi config set` stores it (strings)."""
        config = {
            "aws:region": self.region,
            f"{PROJECT}:zone": self.zone,
            f"{PROJECT}:customersFile": str(Path(customers_file).resolve()),
            f"{PROJECT}:originAuth": self.origin_auth,
            f"{PROJECT}:deletionProtection": "false",  # the stack is destroyed at the end
        }
        if self.zone_id:
            config[f"{PROJECT}:zoneId"] = self.zone_id
        if self.vpc_id:
            config[f"{PROJECT}:vpcId"] = self.vpc_id
        return config

    def path_config(self) -> dict[str, str]:
        """Config to set with `--path`: Pulumi checks `subnetIds` against its declared type, array<string>,
        and a top-level value is always a string, so the list is set item by item."""
        return {f"{PROJECT}:subnetIds[{i}]": subnet for i, subnet in enumerate(self.subnet_ids)}

    def program_config(self, customers_file: Path) -> dict[str, str]:
        """The config as the program receives it from Pulumi: strings, lists as JSON."""
        config = self.stack_config(customers_file)
        if self.subnet_ids:
            config[f"{PROJECT}:subnetIds"] = json.dumps(list(self.subnet_ids))
        return config


def _name(value: str) -> str:
    return value.strip().lower().rstrip(".")


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise E2EConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise E2EConfigError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


def config_from_environment(environ: Mapping[str, str]) -> E2EConfig:
    """The e2e settings; call after `gate` said run (the required variables are then present)."""

    def get(name: str) -> str:
        return (environ.get(PREFIX + name) or "").strip()

    zone, hostname = _name(get("ZONE")), _name(get("HOSTNAME"))
    if hostname == zone or hostname.endswith("." + zone):
        raise E2EConfigError(f"{HOSTNAME} ({hostname}) must lie outside the SaaS zone {zone}: a customer's "
                             "hostname, whose DNS CNAMEs to " + f"{CUSTOMER_ID}.{CNAME_SUBDOMAIN}.{zone}")
    origin_auth = get("ORIGIN_AUTH").lower() or "header"
    if origin_auth not in ORIGIN_AUTH_MODES:
        raise E2EConfigError(f"{PREFIX}ORIGIN_AUTH must be one of {', '.join(ORIGIN_AUTH_MODES)}, "
                             f"got {origin_auth!r}")
    vpc_id = get("VPC_ID")
    subnet_ids = tuple(s.strip() for s in get("SUBNET_IDS").split(",") if s.strip())
    if bool(vpc_id) != bool(subnet_ids):
        raise E2EConfigError(f"{PREFIX}VPC_ID and {PREFIX}SUBNET_IDS go together (public subnets of that VPC "
                             "in two or more AZs, comma-separated); leave both unset for the default VPC")
    status_text = get("EXPECT_STATUS") or "503"
    if not (status_text.isdigit() and 100 <= int(status_text) <= 599):
        raise E2EConfigError(f"{PREFIX}EXPECT_STATUS must be an HTTP status code, got {status_text!r}")
    expect_status = int(status_text)
    default_body = ALB_EMPTY_TARGET_GROUP_BODY if expect_status == 503 else ""
    expect_body = environ.get(PREFIX + "EXPECT_BODY")
    return E2EConfig(
        zone=zone, hostname=hostname, region=get("REGION"), zone_id=get("ZONE_ID"),
        origin_auth=origin_auth, vpc_id=vpc_id, subnet_ids=subnet_ids,
        backend_url=get("BACKEND_URL"), policy_pack=get("POLICY_PACK"),
        expect_status=expect_status, expect_body=default_body if expect_body is None else expect_body,
        active_timeout=_seconds(environ, PREFIX + "ACTIVE_TIMEOUT", 900.0),
        answer_timeout=_seconds(environ, PREFIX + "ANSWER_TIMEOUT", 300.0),
    )


def live_reporter(pytestconfig: Any) -> Callable[[str], None]:
    """Write '[e2e] ...' lines to the terminal as they happen, past pytest's output capture (which would
    otherwise hold them until the test ends: no progress during a 15-minute wait)."""
    terminal = pytestconfig.pluginmanager.getplugin("terminalreporter")
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    def write(line: str) -> None:
        text = f"[e2e] {line}"
        if terminal is None:  # -p no:terminal
            print(text, flush=True)
        elif capture is None:  # -p no:capture
            terminal.write_line(text, flush=True)
        else:
            with capture.global_and_fixture_disabled():
                terminal.write_line(text, flush=True)

    return write


# -- bounded waiting ---------------------------------------------------------------------------------


class WaitTimeout(AssertionError):
    """The state did not arrive within the bound; the message names the last state seen."""


class WaitFailed(AssertionError):
    """A state that will not get better on its own: stop waiting."""


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def wait_for(poll: Callable[[], T], *, what: str, done: Callable[[T], bool], describe: Callable[[T], str],
             timeout: float, interval: float, problem: Callable[[T], str | None] = lambda _: None,
             report: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep, heartbeat: float = 120.0) -> T:
    """Poll until `done`, at most `timeout` seconds (plus one poll), reporting every change of state.

    A state unchanged for `heartbeat` seconds is reported again, so a log shows the wait is alive.
    """
    start = clock()
    last_text, last_report = None, start
    while True:
        state = poll()
        now = clock()
        elapsed, text = now - start, describe(state)
        if text != last_text:
            report(f"{what}: {text} [{format_duration(elapsed)}]")
            last_text, last_report = text, now
        elif now - last_report >= heartbeat:
            report(f"{what}: still {text} [{format_duration(elapsed)}]")
            last_report = now
        if done(state):
            return state
        trouble = problem(state)
        if trouble:
            raise WaitFailed(f"{what}: {trouble} (after {format_duration(elapsed)})")
        if elapsed >= timeout:
            raise WaitTimeout(f"{what}: not done after {format_duration(elapsed)} (bound "
                              f"{format_duration(timeout)}); last state: {text}")
        sleep(max(0.0, min(interval, timeout - elapsed)))


# -- the custom hostname in Cloudflare ---------------------------------------------------------------


def find_hostname(items: list[dict[str, Any]], hostname: str) -> dict[str, Any] | None:
    return next((item for item in items if _name(str(item.get("hostname", ""))) == hostname), None)


def hostname_live(item: Mapping[str, Any] | None) -> bool:
    return item is not None and hostname_status(item) == "active" and certificate_status(item) == "active"


def describe_hostname(item: Mapping[str, Any] | None, cname_target: str) -> str:
    if item is None:
        return "not in Cloudflare yet"
    text = f"hostname {hostname_status(item) or '?'}, certificate {certificate_status(item) or '?'}"
    if hostname_live(item):
        return text
    return f"{text} ({assess_hostname(item, cname_target=cname_target).next_step})"


def hostname_problem(item: Mapping[str, Any] | None, cname_target: str) -> str | None:
    """What the support runbook would call a problem: it will not resolve itself within the wait."""
    if item is None:
        return None
    diagnosis = assess_hostname(item, cname_target=cname_target)
    return diagnosis.next_step if diagnosis.level == PROBLEM else None


# -- HTTP answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTPS exchange: an HTTP answer, or the reason there was none."""

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    body: str = ""
    error: str | None = None
    stage: str = ""  # with an error: "dns", "connect" or "tls/http"

    def summary(self) -> str:
        if self.status is None:
            return f"no answer ({self.stage}: {self.error})"
        server = self.headers.get("server", "?")
        snippet = " ".join(self.body.split())[:80]
        return f"HTTP {self.status} from server {server!r}: {snippet!r}"


def https_get(host: str, *, host_header: str | None = None, timeout: float, verify: bool = True,
              path: str = "/", port: int = 443) -> Answer:
    """GET https://host/path without following redirects; `host` may be an address."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    try:
        try:
            connection.connect()
        except socket.gaierror as err:
            return Answer(error=str(err), stage="dns")
        except ssl.SSLError as err:
            return Answer(error=f"{type(err).__name__}: {err}", stage="tls/http")
        except OSError as err:
            return Answer(error=f"{type(err).__name__}: {err}", stage="connect")
        try:
            connection.request("GET", path, headers={"Host": host_header or host,
                                                     "User-Agent": "saas-domains-e2e"})
            response = connection.getresponse()
            body = response.read(65536).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as err:
            return Answer(error=f"{type(err).__name__}: {err}", stage="tls/http")
        return Answer(status=response.status, headers={k.lower(): v for k, v in response.getheaders()},
                      body=body)
    finally:
        connection.close()


_CLOUDFLARE_ERROR_PAGE = re.compile(r"cf-error-details|error code:?\s*1\d{3}\b", re.IGNORECASE)


def through_cloudflare(answer: Answer) -> bool:
    return answer.headers.get("server", "").lower() == "cloudflare" and "cf-ray" in answer.headers


def edge_not_ready(answer: Answer) -> str | None:
    """Why this answer is Cloudflare (or DNS) still settling, worth another try; None for a real answer.

    Right after activation: resolvers without the record yet, an edge without the certificate yet
    (TLS errors), Cloudflare's own error pages (1xxx) and origin errors (52x) while the fallback
    origin settles.
    """
    if answer.status is None:
        return f"{answer.stage}: {answer.error}"
    if through_cloudflare(answer) and (520 <= answer.status <= 530 or _CLOUDFLARE_ERROR_PAGE.search(answer.body)):
        return f"Cloudflare's own error page, HTTP {answer.status}"
    return None


def cloudflare_answer_problem(answer: Answer, expect_status: int, expect_body: str) -> str | None:
    """None when the answer is the expected one, relayed by Cloudflare from the ALB; otherwise why not."""
    if not through_cloudflare(answer):
        return f"the answer did not come through Cloudflare (no `server: cloudflare` and cf-ray): {answer.summary()}"
    if answer.status == 403 and answer.body.strip() == ALB_REFUSAL_BODY:
        return ("the ALB refused Cloudflare's request with its own 403: origin authentication did not pass "
                f"(the zone's header rule or origin pull certificate did not reach the ALB); {answer.summary()}")
    if answer.status != expect_status:
        return f"expected HTTP {expect_status}, got {answer.summary()}"
    if expect_body and expect_body not in answer.body:
        return f"expected the body to contain {expect_body!r}, got {answer.summary()}"
    return None


# -- the ALB, asked directly -------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectAttempt:
    address: str
    answer: Answer


def ipv4_addresses(name: str, resolve: Callable[..., list[tuple]] = socket.getaddrinfo) -> list[str]:
    """The ALB's addresses (an internet-facing ALB is IPv4 unless dual-stack is asked for)."""
    return sorted({info[4][0] for info in resolve(name, 443, socket.AF_INET, socket.SOCK_STREAM)})


def direct_attempts(alb_dns_name: str, hostname: str, *, timeout: float,
                    resolve: Callable[..., list[tuple]] = socket.getaddrinfo,
                    get: Callable[..., Answer] = https_get) -> list[DirectAttempt]:
    """One request per ALB address, Host = the customer's hostname, not through Cloudflare."""
    return [DirectAttempt(address, get(address, host_header=hostname, timeout=timeout, verify=False))
            for address in ipv4_addresses(alb_dns_name, resolve)]


def direct_refusal_problem(attempts: list[DirectAttempt]) -> str | None:
    """None when every address refused; otherwise which one let the request in, or why it proves nothing.

    Refused means: the connection timed out or was refused (the security group admits only Cloudflare's
    ranges), or, should this machine sit inside those ranges, the listener's fixed 403 (origin
    authentication). Any other answer, or an error after connecting, is a failure.
    """
    if not attempts:
        return "the ALB's name resolved to no IPv4 address: nothing was tested"
    problems = []
    for attempt in attempts:
        answer = attempt.answer
        if answer.status is None and answer.stage == "connect" and _is_refusal(answer.error or ""):
            continue
        if answer.status == 403 and answer.body.strip() == ALB_REFUSAL_BODY:
            continue
        problems.append(f"{attempt.address}: {answer.summary()}")
    if problems:
        return "the ALB did not refuse a request that bypassed Cloudflare: " + "; ".join(problems)
    return None


def _is_refusal(error: str) -> bool:
    return error.startswith(("TimeoutError", "ConnectionRefusedError"))
