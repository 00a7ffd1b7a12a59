"""The throw-away stack through the real Automation API (the locked `pulumi` package), against a stand-in CLI
(fake_pulumi.py) that records what it is asked: which commands, from which directory, with which backend and
config. What the real CLI and clouds then do is for tests/e2e/test_e2e_stack.py on a machine with credentials."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import config_from_environment
from tests.e2e.stack import TeardownError, ThrowawayStack

FAKE = Path(__file__).with_name("fake_pulumi.py")
ENVIRONMENT = {
    "CLOUDFLARE_API_TOKEN": "token", "AWS_ACCESS_KEY_ID": "AKIA...",
    "SAAS_DOMAINS_E2E_ZONE": "saas-test.example", "SAAS_DOMAINS_E2E_HOSTNAME": "e2e.customer-test.example",
    "SAAS_DOMAINS_E2E_REGION": "eu-central-1",
}
OUTPUTS = {"albDnsName": "saas-alb-1.eu-central-1.elb.amazonaws.com", "zoneId": "zone-1",
           "customerHostnames": {"e2e.customer-test.example": {"customer": "e2e"}}}


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """`pulumi` on PATH is the stand-in; returns a reader of what it was asked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    pulumi.chmod(0o755)
    log = tmp_path / "pulumi.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("FAKE_PULUMI_OUTPUTS", json.dumps(OUTPUTS))
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    return lambda: [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def project(tmp_path):
    """Stands for the repository root: the stack file the CLI writes lands here, not in the real checkout."""
    root = tmp_path / "project"
    (root / ".uv" / "bin").mkdir(parents=True)
    (root / ".uv" / "bin" / "uv").write_text("")
    return root


def commands(calls):
    return [" ".join(c["args"][:2] if c["args"][0] in ("stack", "config") else c["args"][:1]) for c in calls]


def test_create_configure_up_destroy_remove_through_the_automation_api(cli, project):
    config = config_from_environment(ENVIRONMENT | {"SAAS_DOMAINS_E2E_VPC_ID": "vpc-1",
                                                    "SAAS_DOMAINS_E2E_SUBNET_IDS": "subnet-a,subnet-b",
                                                    "SAAS_DOMAINS_E2E_POLICY_PACK": "policy"})
    lines = []
    stack = ThrowawayStack(config, project_root=project, report=lines.append, name="e2e-test")
    outputs = stack.deploy()
    assert outputs == OUTPUTS
    assert (project / "Pulumi.e2e-test.yaml").exists()
    scratch = stack.scratch
    stack.tear_down()

    calls = cli()
    assert commands(calls) == [
        "version", "stack init", "config set-all", "config set-all", "up", "stack output", "stack output",
        "stack history", "destroy", "stack history", "stack rm"]
    assert {c["cwd"] for c in calls[1:]} == {str(project)}  # the project itself, never a copy
    init, plain, path, up = calls[1]["args"], calls[2]["args"], calls[3]["args"], calls[4]["args"]
    assert init[:5] == ["stack", "init", "e2e-test", "--secrets-provider", "passphrase"]
    assert "--plaintext" in plain and "saas-domains:deletionProtection=false" in plain
    assert f"saas-domains:customersFile={scratch / 'customers.yaml'}" in plain
    assert "aws:region=eu-central-1" in plain and "saas-domains:vpcId=vpc-1" in plain
    assert "--path" in path and "saas-domains:subnetIds[1]=subnet-b" in path
    assert not any("subnetIds=" in a for a in plain)
    assert {"--yes", "--skip-preview"} <= set(up) and up[up.index("--color") + 1] == "never"
    assert up[up.index("--policy-pack") + 1] == "policy" and up[up.index("--stack") + 1] == "e2e-test"
    for call in calls[1:]:
        env = call["env"]
        assert env["PULUMI_BACKEND_URL"] == (scratch / "state").as_uri()  # never the team's backend
        assert len(env["PULUMI_CONFIG_PASSPHRASE"]) >= 32
        assert env["PATH"].startswith(f"{project / '.uv' / 'bin'}{os.pathsep}")
    assert calls[-1]["args"][:3] == ["stack", "rm", "--yes"] and calls[-1]["args"][-1] == "e2e-test"
    assert not (project / "Pulumi.e2e-test.yaml").exists() and not scratch.exists()
    assert "Updating (e2e-test)" in lines and "stack e2e-test: destroyed and removed" in lines


def test_a_failed_up_is_destroyed_and_a_destroy_needing_a_retry_cleans_up_but_fails(cli, project, monkeypatch):
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "up")
    monkeypatch.setenv("FAKE_PULUMI_DESTROY_FAILURES", "1")
    waits, lines = [], []
    stack = ThrowawayStack(config_from_environment(ENVIRONMENT), project_root=project, report=lines.append,
                           name="e2e-test", sleep=waits.append)
    with pytest.raises(Exception, match="up failed half-way"):
        stack.deploy()
    with pytest.raises(TeardownError, match="only on destroy attempt 2: one `pulumi destroy` must complete"):
        stack.tear_down()
    assert commands(cli())[3:] == ["up", "destroy", "destroy", "stack history", "stack rm"]
    assert waits == [60.0]
    assert any("1039" in line for line in lines)  # the reason for the retry is shown as it happens


def test_a_destroy_that_keeps_failing_leaves_the_state_and_says_how_to_finish(cli, project, monkeypatch):
    monkeypatch.setenv("FAKE_PULUMI_DESTROY_FAILURES", "9")
    stack = ThrowawayStack(config_from_environment(ENVIRONMENT), project_root=project, report=lambda _: None,
                           name="e2e-test", sleep=lambda _: None)
    stack.deploy()
    with pytest.raises(TeardownError, match="pulumi destroy --stack e2e-test --yes"):
        stack.tear_down()
    assert commands(cli()).count("destroy") == 3 and "stack rm" not in commands(cli())
    assert (stack.scratch / "state").is_dir() and (project / "Pulumi.e2e-test.yaml").exists()
