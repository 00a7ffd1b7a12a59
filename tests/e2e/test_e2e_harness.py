"""The end-to-end test's own logic, offline: when it runs or skips, the stack it would deploy (rendered by the
real program under the mock engine), the bounded waits, how answers are judged and how the stack is torn down.
Not marked e2e: these run in every test run."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.model.customers import ValidationRules, load_customers
from infra.model.settings import PROJECT, settings_from
from infra.offline import render
from tests.conftest import PROJECT_ROOT
from tests.e2e.harness import (
    ALB_EMPTY_TARGET_GROUP_BODY,
    Answer,
    DirectAttempt,
    E2EConfig,
    E2EConfigError,
    WaitFailed,
    WaitTimeout,
    cloudflare_answer_problem,
    config_from_environment,
    describe_hostname,
    direct_attempts,
    direct_refusal_problem,
    edge_not_ready,
    gate,
    hostname_live,
    hostname_problem,
    https_get,
    missing_requirements,
    wait_for,
)
from tests.e2e.stack import TeardownError, ThrowawayStack

COMPLETE = {
    "CLOUDFLARE_API_TOKEN": "token",
    "AWS_ACCESS_KEY_ID": "AKIA...",
    "SAAS_DOMAINS_E2E_ZONE": "saas-test.example",
    "SAAS_DOMAINS_E2E_HOSTNAME": "E2E.Customer-Test.example.",
    "SAAS_DOMAINS_E2E_REGION": "eu-central-1",
}


def on_path(*names):
    return lambda name: f"/usr/bin/{name}" if name in names else None


# -- run, skip or fail -------------------------------------------------------------------------------


def test_nothing_missing_when_every_requirement_is_there():
    assert missing_requirements(COMPLETE, on_path("pulumi", "uv")) == []
    assert gate(COMPLETE, on_path("pulumi", "uv")).run


def test_every_missing_requirement_is_named(tmp_path):
    missing = missing_requirements({}, on_path(), project_root=tmp_path)
    assert missing == [
        "CLOUDFLARE_API_TOKEN",
        "AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE or AWS_WEB_IDENTITY_TOKEN_FILE)",
        "SAAS_DOMAINS_E2E_ZONE", "SAAS_DOMAINS_E2E_HOSTNAME", "SAAS_DOMAINS_E2E_REGION",
        "the pulumi CLI on PATH",
        "uv on PATH or in .uv/bin (Pulumi runs the program with the uv toolchain)",
    ]


@pytest.mark.parametrize("credentials", [{"AWS_PROFILE": "e2e"},
                                         {"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"}])
def test_any_kind_of_aws_credentials_will_do(credentials):
    environ = {k: v for k, v in COMPLETE.items() if k != "AWS_ACCESS_KEY_ID"} | credentials
    assert missing_requirements(environ, on_path("pulumi", "uv")) == []


def test_blank_values_count_as_missing_and_the_project_uv_counts_as_uv(tmp_path):
    (tmp_path / ".uv" / "bin").mkdir(parents=True)
    (tmp_path / ".uv" / "bin" / "uv").write_text("")
    environ = COMPLETE | {"SAAS_DOMAINS_E2E_ZONE": "  "}
    assert missing_requirements(environ, on_path("pulumi"), project_root=tmp_path) == ["SAAS_DOMAINS_E2E_ZONE"]


def test_a_lasting_backend_needs_the_passphrase_to_reopen_it():
    environ = COMPLETE | {"SAAS_DOMAINS_E2E_BACKEND_URL": "s3://bucket/e2e"}
    assert missing_requirements(environ, on_path("pulumi", "uv")) == [
        "PULUMI_CONFIG_PASSPHRASE (needed with SAAS_DOMAINS_E2E_BACKEND_URL, to reopen that state later)"]


def test_skips_with_the_reason_here_and_fails_when_ci_requires_the_run():
    skipped = gate({"SAAS_DOMAINS_E2E_ZONE": "saas-test.example"}, on_path("uv"))
    assert not skipped.run and not skipped.fail
    assert "missing: CLOUDFLARE_API_TOKEN, AWS credentials" in skipped.reason
    assert "SAAS_DOMAINS_E2E_ZONE" not in skipped.reason and "the pulumi CLI on PATH" in skipped.reason
    required = gate({"SAAS_DOMAINS_E2E_REQUIRED": "1"}, on_path())
    assert not required.run and required.fail and required.reason.startswith("end-to-end test needs")


def test_the_e2e_tests_are_collected_and_skip_with_the_reason_without_credentials():
    """The real e2e module, selected as the workflow selects it, in an environment without credentials."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SAAS_DOMAINS_E2E_", "CLOUDFLARE_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e/test_e2e_stack.py", "-m", "e2e", "-ra", "-p", "no:cacheprovider",
         "-W", "error::pytest.PytestUnknownMarkWarning"],
        cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^=+ 4 skipped in ", result.stdout.splitlines()[-1]), result.stdout
    skips = re.findall(r"^SKIPPED \[1\] tests/e2e/test_e2e_stack.py:\d+: end-to-end test needs real credentials; "
                       r"missing: CLOUDFLARE_API_TOKEN, AWS credentials", result.stdout, re.MULTILINE)
    assert len(skips) == 4, result.stdout


def test_progress_reaches_the_terminal_while_pytest_captures_output(tmp_path):
    (tmp_path / "test_progress.py").write_text(
        "from tests.e2e.harness import live_reporter\n"
        "def test_waits(pytestconfig):\n"
        "    live_reporter(pytestconfig)('hostname pending [1s]')\n"
        "    print('held by capture')\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                             str(tmp_path / "test_progress.py")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[e2e] hostname pending [1s]" in result.stdout and "held by capture" not in result.stdout


# -- the stack it deploys --------------------------------------------------------------------------


def test_settings_come_from_the_environment_normalised():
    config = config_from_environment(COMPLETE)
    assert (config.zone, config.hostname, config.region) == ("saas-test.example", "e2e.customer-test.example",
                                                             "eu-central-1")
    assert config.cname_target == "e2e.cname.saas-test.example"
    assert (config.origin_auth, config.expect_status, config.expect_body) == ("header", 503,
                                                                             ALB_EMPTY_TARGET_GROUP_BODY)
    assert (config.active_timeout, config.answer_timeout) == (900.0, 300.0)


def test_optional_settings_are_read():
    config = config_from_environment(COMPLETE | {
        "SAAS_DOMAINS_E2E_ORIGIN_AUTH": "MTLS", "SAAS_DOMAINS_E2E_ZONE_ID": "abc123",
        "SAAS_DOMAINS_E2E_VPC_ID": "vpc-1", "SAAS_DOMAINS_E2E_SUBNET_IDS": "subnet-a, subnet-b",
        "SAAS_DOMAINS_E2E_EXPECT_STATUS": "200", "SAAS_DOMAINS_E2E_ACTIVE_TIMEOUT": "60",
        "SAAS_DOMAINS_E2E_POLICY_PACK": "policy"})
    assert config.origin_auth == "mtls" and config.zone_id == "abc123" and config.policy_pack == "policy"
    assert config.subnet_ids == ("subnet-a", "subnet-b") and config.active_timeout == 60.0
    assert (config.expect_status, config.expect_body) == (200, "")  # another status: no body unless asked


@pytest.mark.parametrize(("extra", "message"), [
    ({"SAAS_DOMAINS_E2E_HOSTNAME": "shop.saas-test.example"}, "must lie outside the SaaS zone"),
    ({"SAAS_DOMAINS_E2E_ORIGIN_AUTH": "basic"}, "ORIGIN_AUTH must be one of header, mtls, none"),
    ({"SAAS_DOMAINS_E2E_VPC_ID": "vpc-1"}, "VPC_ID and SAAS_DOMAINS_E2E_SUBNET_IDS go together"),
    ({"SAAS_DOMAINS_E2E_EXPECT_STATUS": "ok"}, "EXPECT_STATUS must be an HTTP status code"),
    ({"SAAS_DOMAINS_E2E_ANSWER_TIMEOUT": "-5"}, "ANSWER_TIMEOUT must be more than 0 seconds"),
    ({"SAAS_DOMAINS_E2E_ACTIVE_TIMEOUT": "soon"}, "ACTIVE_TIMEOUT must be a number of seconds"),
])
def test_malformed_settings_are_refused(extra, message):
    with pytest.raises(E2EConfigError, match=message):
        config_from_environment(COMPLETE | extra)


def test_the_stack_config_passes_the_programs_own_settings_and_customers_checks(tmp_path):
    config = config_from_environment(COMPLETE | {"SAAS_DOMAINS_E2E_VPC_ID": "vpc-1",
                                                 "SAAS_DOMAINS_E2E_SUBNET_IDS": "subnet-a,subnet-b"})
    customers = tmp_path / "customers.yaml"
    customers.write_text(config.customers_yaml())
    stack_config = config.program_config(customers)
    assert stack_config["aws:region"] == "eu-central-1"
    assert config.path_config() == {"saas-domains:subnetIds[0]": "subnet-a", "saas-domains:subnetIds[1]": "subnet-b"}
    assert "saas-domains:subnetIds" not in config.stack_config(customers)  # a string would fail the array type
    settings = settings_from(lambda key: stack_config.get(f"{PROJECT}:{key}"))
    assert settings.deletion_protection is False and settings.subnet_ids == ("subnet-a", "subnet-b")
    assert settings.customers_path(PROJECT_ROOT) == customers  # absolute: the repository's file is untouched
    loaded = load_customers(customers, ValidationRules(zone=config.zone))
    assert [(h.customer_id, h.hostname) for h in loaded.hostnames] == [("e2e", config.hostname)]


def cli_accepts_top_level_value(declared_type: str, value: str) -> bool:
    """The Pulumi CLI's check of a top-level (string) stack value against Pulumi.yaml's declared type before
    `up` (ValidateConfigValue, sdk/go/common/workspace/project.go): arrays and objects need --path values."""
    if declared_type == "string":
        return True
    if declared_type == "integer":
        return re.fullmatch(r"[+-]?\d+", value) is not None
    if declared_type == "boolean":
        return value in ("true", "false")
    return False


def test_every_setting_passes_the_clis_check_against_the_types_pulumi_yaml_declares(tmp_path):
    declared = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]
    config = config_from_environment(COMPLETE | {"SAAS_DOMAINS_E2E_ZONE_ID": "abc123",
                                                 "SAAS_DOMAINS_E2E_VPC_ID": "vpc-1",
                                                 "SAAS_DOMAINS_E2E_SUBNET_IDS": "subnet-a,subnet-b"})
    for key, value in config.stack_config(tmp_path / "customers.yaml").items():
        namespace, name = key.split(":")
        if namespace == PROJECT:
            assert cli_accepts_top_level_value(declared[name]["type"], value), (key, value)
    for key in config.path_config():
        assert declared[key.split(":")[1].split("[")[0]]["type"] == "array"
    assert not cli_accepts_top_level_value("array", '["subnet-a"]')  # why subnetIds goes by --path


@pytest.mark.parametrize("origin_auth", ["header", "mtls"])
def test_the_real_program_renders_the_e2e_stack_with_the_outputs_the_test_reads(tmp_path, origin_auth):
    config = config_from_environment(COMPLETE | {"SAAS_DOMAINS_E2E_ORIGIN_AUTH": origin_auth})
    customers = tmp_path / "customers.yaml"
    customers.write_text(config.customers_yaml())
    rendering = render(PROJECT_ROOT, "e2e-offline", config=config.program_config(customers))
    (hostname,) = rendering.of_type("cloudflare:index/customHostname:CustomHostname")
    assert hostname.inputs["hostname"] == config.hostname
    (alb,) = rendering.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["enableDeletionProtection"] is False  # or destroy would fail
    outputs = rendering.outputs
    assert outputs["albDnsName"] and outputs["zoneId"]
    assert outputs["customerHostnames"][config.hostname]["cname"]["target"] == config.cname_target


# -- bounded waiting ---------------------------------------------------------------------------------


class Clock:
    def __init__(self, poll_cost: float = 1.0):
        self.now, self.poll_cost, self.sleeps = 0.0, poll_cost, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def poller(self, states):
        states = iter(states)

        def poll():
            self.now += self.poll_cost
            return next(states)

        return poll


def test_wait_reports_each_change_once_and_returns_the_final_state():
    clock, lines = Clock(), []
    states = ["pending", "pending", "pending_validation", "active"]
    result = wait_for(clock.poller(states), what="h", done=lambda s: s == "active", describe=str,
                      timeout=100, interval=10, report=lines.append, clock=clock, sleep=clock.sleep)
    assert result == "active"
    assert lines == ["h: pending [1s]", "h: pending_validation [23s]", "h: active [34s]"]
    assert clock.sleeps == [10, 10, 10]


def test_wait_is_bounded_and_names_the_last_state():
    clock, lines = Clock(), []
    with pytest.raises(WaitTimeout, match=r"h: not done after 15m01s \(bound 15m00s\); last state: pending"):
        wait_for(clock.poller(iter(lambda: "pending", None)), what="h", done=lambda s: False, describe=str,
                 timeout=900, interval=60, report=lines.append, clock=clock, sleep=clock.sleep, heartbeat=300)
    assert clock.now == 901  # the last sleep is cut to the bound: one last poll (1 s here) and no more
    assert lines[0] == "h: pending [1s]" and lines[1].startswith("h: still pending [5m")
    assert len(lines) == 3  # heartbeats every 5 minutes, not a line per poll


def test_wait_stops_at_a_problem_that_will_not_go_away():
    clock = Clock()
    with pytest.raises(WaitFailed, match="h: CAA blocks the CA"):
        wait_for(clock.poller(["pending", "caa"]), what="h", done=lambda s: False, describe=str,
                 problem=lambda s: "CAA blocks the CA" if s == "caa" else None,
                 timeout=900, interval=5, report=lambda _: None, clock=clock, sleep=clock.sleep)
    assert clock.now < 20


# -- the custom hostname ---------------------------------------------------------------------------


def item(status, ssl_status, **ssl):
    return {"hostname": "e2e.customer-test.example", "status": status, "ssl": {"status": ssl_status, **ssl}}


def test_live_only_when_hostname_and_certificate_are_active():
    assert hostname_live(item("active", "active"))
    assert not hostname_live(item("active", "pending_deployment"))
    assert not hostname_live(item("pending", "active")) and not hostname_live(None)


def test_hostname_states_read_like_the_support_runbook():
    target = "e2e.cname.saas-test.example"
    assert describe_hostname(None, target) == "not in Cloudflare yet"
    assert describe_hostname(item("active", "active"), target) == "hostname active, certificate active"
    waiting = describe_hostname(item("pending", "pending_validation", method="http"), target)
    assert waiting.startswith("hostname pending, certificate pending_validation (")
    assert hostname_problem(item("pending", "pending_validation", method="http"), target) is None
    assert "timed out" in hostname_problem(item("pending", "validation_timed_out"), target)
    assert "blocked" in hostname_problem(item("blocked", "pending_validation"), target)


# -- answers through Cloudflare --------------------------------------------------------------------

EDGE = {"server": "cloudflare", "cf-ray": "8f0e-FRA"}
ALB_503 = ("<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
           "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n")


def test_the_albs_503_relayed_by_cloudflare_is_the_expected_answer():
    answer = Answer(status=503, headers=EDGE, body=ALB_503)
    assert edge_not_ready(answer) is None
    assert cloudflare_answer_problem(answer, 503, ALB_EMPTY_TARGET_GROUP_BODY) is None


def test_the_albs_403_means_origin_authentication_failed():
    problem = cloudflare_answer_problem(Answer(status=403, headers=EDGE, body="Forbidden"), 503,
                                        ALB_EMPTY_TARGET_GROUP_BODY)
    assert "origin authentication did not pass" in problem


@pytest.mark.parametrize(("answer", "expected"), [
    (Answer(status=503, headers={"server": "awselb/2.0"}, body=ALB_503), "did not come through Cloudflare"),
    (Answer(status=200, headers=EDGE, body="hello"), "expected HTTP 503, got HTTP 200"),
    (Answer(status=503, headers=EDGE, body="<h1>maintenance</h1>"), "expected the body to contain"),
])
def test_other_answers_are_refused_with_what_came_instead(answer, expected):
    assert expected in cloudflare_answer_problem(answer, 503, ALB_EMPTY_TARGET_GROUP_BODY)


def test_an_application_answer_can_be_expected_instead():
    assert cloudflare_answer_problem(Answer(status=200, headers=EDGE, body="ok"), 200, "") is None


@pytest.mark.parametrize("answer", [
    Answer(error="[Errno -2] Name or service not known", stage="dns"),
    Answer(error="SSLCertVerificationError: hostname mismatch", stage="tls/http"),
    Answer(status=525, headers=EDGE, body="SSL handshake failed"),
    Answer(status=409, headers=EDGE, body="<span class='cf-error-details'>Error 1014</span>"),
    Answer(status=530, headers=EDGE, body="error code: 1016"),
])
def test_cloudflare_still_settling_is_retried(answer):
    assert edge_not_ready(answer)


# -- the ALB around Cloudflare ---------------------------------------------------------------------


def attempt(answer, address="3.120.0.1"):
    return DirectAttempt(address, answer)


def test_timeouts_refusals_and_the_listeners_403_count_as_refused():
    assert direct_refusal_problem([
        attempt(Answer(error="TimeoutError: timed out", stage="connect")),
        attempt(Answer(error="ConnectionRefusedError: [Errno 111] Connection refused", stage="connect")),
        attempt(Answer(status=403, headers={"server": "awselb/2.0"}, body="Forbidden")),
    ]) is None


@pytest.mark.parametrize(("answers", "expected"), [
    ([], "resolved to no IPv4 address"),
    ([Answer(status=200, headers={"server": "awselb/2.0"}, body="app")], "3.120.0.1: HTTP 200"),
    ([Answer(status=503, body=ALB_503)], "3.120.0.1: HTTP 503"),  # reached the forwarding rule
    ([Answer(error="SSLError: bad record", stage="tls/http")], "tls/http"),  # it connected, so not blocked
    ([Answer(error="[Errno -2] Name or service not known", stage="dns")], "dns"),
])
def test_anything_else_is_a_way_around_cloudflare_or_proves_nothing(answers, expected):
    problem = direct_refusal_problem([attempt(a) for a in answers])
    assert problem and expected in problem


def test_every_alb_address_is_tried_with_the_customers_host():
    calls = []

    def resolve(name, port, family, kind):
        assert (name, port, family, kind) == ("alb-1.eu-central-1.elb.amazonaws.com", 443, socket.AF_INET,
                                              socket.SOCK_STREAM)
        return [(family, kind, 6, "", ("3.120.0.2", 443)), (family, kind, 6, "", ("3.120.0.1", 443)),
                (family, kind, 6, "", ("3.120.0.2", 443))]

    def get(address, **kwargs):
        calls.append((address, kwargs))
        return Answer(error="TimeoutError: timed out", stage="connect")

    attempts = direct_attempts("alb-1.eu-central-1.elb.amazonaws.com", "e2e.customer-test.example", timeout=5,
                               resolve=resolve, get=get)
    assert [a.address for a in attempts] == ["3.120.0.1", "3.120.0.2"]
    assert calls[0][1] == {"host_header": "e2e.customer-test.example", "timeout": 5, "verify": False}


def test_https_get_reports_a_connection_that_fails_as_a_connect_refusal():
    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    answer = https_get("127.0.0.1", port=port, timeout=2, verify=False)
    assert answer.status is None and answer.stage == "connect"
    assert answer.error.startswith("ConnectionRefusedError")
    assert direct_refusal_problem([attempt(answer)]) is None


# -- the throw-away stack's lifecycle ----------------------------------------------------------------


class FakeStack:
    def __init__(self, events, *, up_fails=False, destroy_failures=0):
        self.events, self.up_fails, self.destroy_failures = events, up_fails, destroy_failures
        self.workspace = self

    def set_all_config(self, config, path=False):
        self.events.append(("config", {k: v.value for k, v in config.items()}))

    def up(self, **kwargs):
        self.events.append(("up", kwargs.get("policy_packs")))
        if self.up_fails:
            raise RuntimeError("up failed half-way")
        from pulumi.automation import OutputValue

        return type("Up", (), {"outputs": {"albDnsName": OutputValue("alb.example", False)}})()

    def destroy(self, **kwargs):
        self.events.append(("destroy",))
        if self.destroy_failures:
            self.destroy_failures -= 1
            raise RuntimeError("error 1039: fallback origin still being deleted")

    def remove_stack(self, name):
        self.events.append(("remove", name))


def throwaway(tmp_path, events, stack, **kwargs):
    def create(name, work_dir, env_vars):
        events.append(("create", name, work_dir, dict(env_vars)))
        (Path(work_dir) / f"Pulumi.{name}.yaml").write_text("encryptionsalt: x\n")
        return stack

    (tmp_path / ".uv" / "bin").mkdir(parents=True)
    (tmp_path / ".uv" / "bin" / "uv").write_text("")
    return ThrowawayStack(config_from_environment(COMPLETE), environ={"PATH": "/usr/bin"}, project_root=tmp_path,
                          report=lambda _: None, create_stack=create, name="e2e-test", **kwargs)


def test_deploys_on_a_private_backend_then_destroys_and_removes_everything(tmp_path):
    events = []
    stack = throwaway(tmp_path, events, FakeStack(events))
    scratch = stack.scratch
    assert stack.deploy() == {"albDnsName": "alb.example"}
    _, name, work_dir, env_vars = events[0]
    assert (name, work_dir) == ("e2e-test", str(tmp_path))  # the project itself, not a copy
    assert env_vars["PULUMI_BACKEND_URL"] == (scratch / "state").as_uri()
    assert len(env_vars["PULUMI_CONFIG_PASSPHRASE"]) >= 32
    assert env_vars["PATH"] == f"{tmp_path / '.uv' / 'bin'}:/usr/bin"
    config = events[1][1]
    assert config["saas-domains:customersFile"] == str(scratch / "customers.yaml")
    assert "e2e.customer-test.example" in (scratch / "customers.yaml").read_text()
    stack.tear_down()
    assert [e[0] for e in events] == ["create", "config", "up", "destroy", "remove"]
    assert not scratch.exists() and not (tmp_path / "Pulumi.e2e-test.yaml").exists()


def test_a_failed_up_is_still_destroyed(tmp_path):
    events = []
    stack = throwaway(tmp_path, events, FakeStack(events, up_fails=True))
    with pytest.raises(RuntimeError):
        stack.deploy()
    stack.tear_down()
    assert [e[0] for e in events] == ["create", "config", "up", "destroy", "remove"]


def test_destroy_is_retried_after_a_wait_to_clean_up_and_still_fails_the_run(tmp_path):
    events, waits = [], []
    stack = throwaway(tmp_path, events, FakeStack(events, destroy_failures=2), sleep=waits.append)
    stack.deploy()
    with pytest.raises(TeardownError, match="only on destroy attempt 3"):
        stack.tear_down()
    assert [e[0] for e in events][-4:] == ["destroy", "destroy", "destroy", "remove"] and waits == [60.0, 60.0]


def test_one_destroy_is_enough(tmp_path):
    events = []
    stack = throwaway(tmp_path, events, FakeStack(events), sleep=lambda _: None)
    stack.deploy()
    stack.tear_down()
    assert [e[0] for e in events][-2:] == ["destroy", "remove"]


def test_a_stack_that_cannot_be_destroyed_is_kept_with_instructions(tmp_path):
    events = []
    stack = throwaway(tmp_path, events, FakeStack(events, destroy_failures=5), sleep=lambda _: None)
    stack.deploy()
    with pytest.raises(TeardownError) as raised:
        stack.tear_down()
    message = str(raised.value)
    assert "still deployed" in message and "pulumi destroy --stack e2e-test --yes" in message
    assert f"PULUMI_BACKEND_URL={(stack.scratch / 'state').as_uri()}" in message
    assert "error 1039" in message
    secret = stack.scratch / "passphrase"
    assert secret.read_text() == stack.passphrase and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert ("remove", "e2e-test") not in events and (tmp_path / "Pulumi.e2e-test.yaml").exists()


def test_nothing_to_destroy_when_the_stack_was_never_created(tmp_path):
    events = []

    def create(name, work_dir, env_vars):
        raise RuntimeError("pulumi stack init failed")

    stack = ThrowawayStack(config_from_environment(COMPLETE), environ={"PATH": "/usr/bin"}, project_root=tmp_path,
                           report=lambda _: None, create_stack=create, name="e2e-test")
    with pytest.raises(RuntimeError):
        stack.deploy()
    stack.tear_down()
    assert events == [] and not stack.scratch.exists()


def test_a_given_passphrase_and_backend_are_used_and_never_written_down(tmp_path):
    config = E2EConfig(zone="saas-test.example", hostname="e2e.customer-test.example", region="eu-central-1",
                       backend_url="s3://bucket/e2e")
    events = []
    stack = ThrowawayStack(config, environ={"PATH": "/usr/bin", "PULUMI_CONFIG_PASSPHRASE": "given"},
                           project_root=tmp_path, report=lambda _: None, name="e2e-test",
                           create_stack=lambda *a: FakeStack(events, destroy_failures=9), sleep=lambda _: None)
    assert stack.env_vars["PULUMI_BACKEND_URL"] == "s3://bucket/e2e" and stack.passphrase == "given"
    stack.deploy()
    with pytest.raises(TeardownError, match="PULUMI_CONFIG_PASSPHRASE=<the one this run used>"):
        stack.tear_down()
    assert not (stack.scratch / "passphrase").exists() and not (stack.scratch / "state").exists()
