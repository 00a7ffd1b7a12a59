"""The weekly end-to-end workflow: linted by actionlint, least privilege, one run at a time, and wired to
the variables tests/e2e reads (so a renamed variable cannot turn the run into a silent skip)."""

from __future__ import annotations

import re

import yaml

from tests.conftest import PROJECT_ROOT
from tests.e2e.harness import HOSTNAME, REGION, REQUIRED, TOKEN, ZONE, missing_requirements
from tests.test_workflows import actionlint, linter  # noqa: F401 (linter is a fixture)

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "e2e.yml"


def load() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads a bare `on` as true
    return workflow


def job() -> dict:
    (only,) = load()["jobs"].values()
    return only


def uses(step: dict) -> str:
    return step.get("uses", "").split("@")[0]


def test_e2e_workflow_passes_actionlint(linter):  # noqa: F811
    assert actionlint(linter, WORKFLOW) == []


def test_runs_weekly_and_on_demand_only():
    triggers = load()["on"]
    assert set(triggers) == {"workflow_dispatch", "schedule"}  # never on pull requests: it spends money
    (schedule,) = triggers["schedule"]
    minute, hour, day_of_month, month, day_of_week = schedule["cron"].split()
    assert (day_of_month, month) == ("*", "*") and re.fullmatch(r"[0-6]", day_of_week)  # once a week
    assert minute.isdigit() and hour.isdigit()


def test_least_privilege_and_one_run_at_a_time():
    workflow = load()
    assert workflow["permissions"] == {"contents": "read"}
    assert job()["permissions"] == {"contents": "read", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "e2e", "cancel-in-progress": False}  # a fixed group: one zone
    assert job()["environment"] == "e2e"
    assert 0 < job()["timeout-minutes"] <= 120


def test_installs_like_the_other_workflows_then_runs_only_the_e2e_tests():
    steps = job()["steps"]
    names = [uses(s) or s.get("name") for s in steps]
    script = "\n".join(s.get("run", "") for s in steps)
    assert 'python -m pip install "uv==${UV_VERSION}"' in script and "uv sync --locked" in script
    aws = steps[names.index("aws-actions/configure-aws-credentials")]
    assert aws["with"]["role-to-assume"] == "${{ secrets.AWS_E2E_ROLE_ARN }}"
    pulumi = steps[names.index("pulumi/actions")]
    assert "command" not in pulumi.get("with", {})  # install only: the test drives the CLI
    test = steps[-1]
    assert re.fullmatch(r"uv run --locked pytest tests/e2e -m e2e -ra", test["run"].strip())
    assert names.index("aws-actions/configure-aws-credentials") < len(steps) - 1
    assert names.index("pulumi/actions") < len(steps) - 1
    assert names.index("Policy pack environment") < len(steps) - 1


def test_the_test_step_provides_every_variable_the_e2e_test_requires():
    env = job()["steps"][-1]["env"]
    assert env[REQUIRED] == "1"  # a lost secret fails the run instead of skipping it
    assert env[TOKEN] == "${{ secrets.E2E_CLOUDFLARE_API_TOKEN }}"
    assert {ZONE, HOSTNAME, REGION} <= set(env)
    # With the AWS credentials the action exports and the CLI the pulumi step installs, nothing is missing.
    provided = {name: "set" for name in env} | {"AWS_ACCESS_KEY_ID": "from configure-aws-credentials"}
    assert missing_requirements(provided, lambda name: f"/usr/bin/{name}") == []
    assert env["SAAS_DOMAINS_E2E_POLICY_PACK"] == "policy"
    assert all(v.startswith(("${{ secrets.", "${{ vars.")) for k, v in env.items()
               if k not in (REQUIRED, "SAAS_DOMAINS_E2E_POLICY_PACK"))
