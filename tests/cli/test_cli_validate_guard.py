"""`validate` runs the removal guard as the pull request's `diff` does (issue 19, point 4), in a real git repository.

The base is `--base REF`, else origin/<GITHUB_BASE_REF> or origin/main (what the pull-request workflow compares
with) when the repository has it; without one the guard is said not to have run, and validate still validates.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from infra.cli import status_codes
from tests.cli.helpers import run_cli, with_customers_file
from tests.conftest import PROJECT_ROOT

SEVEN = "customers:\n" + "".join(f"  - id: c{i}\n    hostnames: [www.c{i}.example]\n" for i in range(7))
GIT = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]


def keep(count: int) -> str:
    """The customers file with only the first `count` of the seven customers."""
    return "customers:\n" + "".join(f"  - id: c{i}\n    hostnames: [www.c{i}.example]\n" for i in range(count))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """The project's stack files and seven hostnames, committed on main, with origin/main where CI has it."""
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.dev.yaml").write_text(with_customers_file((PROJECT_ROOT / "Pulumi.dev.yaml").read_text()))
    (tmp_path / "customers.yaml").write_text(SEVEN)
    for command in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "base"],
                    ["update-ref", "refs/remotes/origin/main", "HEAD"]):
        subprocess.run([*GIT, *command], cwd=tmp_path, check=True, capture_output=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_removal_within_the_limit_passes_and_says_against_what(repo, capsys):
    (repo / "customers.yaml").write_text(keep(6))
    result = run_cli(capsys, "validate")
    assert result.code == status_codes.OK, result.err
    assert result.out.splitlines()[1] == ("removal guard: passes: 1 hostname removed since origin/main (up to 5 "
                                          "without confirmation)")


def test_a_mass_removal_that_validates_is_stopped_with_the_guards_code_and_message(repo, capsys):
    (repo / "customers.yaml").write_text(keep(1))
    result = run_cli(capsys, "validate")
    assert result.code == status_codes.REMOVAL_GUARD == 3
    assert result.out.startswith("valid: customers.yaml: 1 customer, 1 hostname (cap 5,000, zone mailito.com)")
    assert result.err.startswith("removal guard: this change deletes 6 custom hostnames (www.c1.example, ")
    assert "re-run with `--allow-removals 6`" in result.err and "saas-domains:allowRemovals: 6" in result.err

    document = json.loads(run_cli(capsys, "validate", "--json").out)
    assert document["valid"] is True
    guard = document["removal_guard"]
    assert (guard["base"], guard["compared"], guard["removed"], guard["refused"]) == ("origin/main", True, 6, True)

    markdown = run_cli(capsys, "validate", "--format", "markdown")
    assert markdown.code == 3
    assert "> **Removal guard:** this change deletes 6 custom hostnames" in markdown.out
    assert "removal guard: removal guard" not in markdown.out.lower()

    assert run_cli(capsys, "validate", "--allow-removals", "6").code == status_codes.OK  # confirmed, as in diff
    stack = (repo / "Pulumi.dev.yaml").read_text()
    (repo / "Pulumi.dev.yaml").write_text(stack.replace("allowRemovals: 0", "allowRemovals: 6"))
    assert run_cli(capsys, "validate").code == status_codes.OK  # the stack file's confirmation, as in the deploy


def test_diff_says_the_same_refusal_once(repo, capsys):
    (repo / "customers.yaml").write_text(keep(1))
    result = run_cli(capsys, "diff", "--base", "main", "--format", "markdown")
    assert result.code == 3
    assert "> **Removal guard:** this change deletes 6 custom hostnames" in result.out
    assert "removal guard: removal guard" not in result.out.lower()


def test_the_base_is_the_one_the_pull_request_workflow_uses(repo, capsys, monkeypatch):
    (repo / "customers.yaml").write_text(keep(1))
    subprocess.run([*GIT, "update-ref", "refs/remotes/origin/release", "HEAD"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qam", "the release branch already lost them"], cwd=repo, check=True)
    subprocess.run([*GIT, "update-ref", "refs/remotes/origin/main", "HEAD"], cwd=repo, check=True)
    assert run_cli(capsys, "validate").code == status_codes.OK  # nothing removed since origin/main
    monkeypatch.setenv("GITHUB_BASE_REF", "release")  # a pull request into release, in its job
    result = run_cli(capsys, "validate")
    assert result.code == 3 and "deletes 6 custom hostnames" in result.err
    assert run_cli(capsys, "validate", "--base", "main").code == status_codes.OK  # --base wins


def test_without_a_base_it_validates_and_says_the_guard_did_not_run(repo, capsys):
    (repo / "customers.yaml").write_text(keep(1))
    subprocess.run([*GIT, "update-ref", "-d", "refs/remotes/origin/main"], cwd=repo, check=True)
    result = run_cli(capsys, "validate")
    assert result.code == status_codes.OK
    assert result.out.splitlines()[1] == (
        "removal guard: not run: no origin/main here to compare with (`git fetch origin main`, or pass --base REF); "
        "the pull request's diff and the deploy run it")
    with pytest.raises(SystemExit) as exited:  # a usage error: argparse's own, with validate's usage
        run_cli(capsys, "validate", "--no-base", "--base", "main")
    assert exited.value.code == status_codes.CANNOT_RUN
    err = capsys.readouterr().err
    assert "saas-domains validate: error: argument --base: not allowed with argument --no-base" in err
    assert run_cli(capsys, "validate", "--no-base").out.splitlines()[1] == "removal guard: not run: --no-base"


def test_a_base_that_does_not_exist_is_exit_2(repo, capsys):
    result = run_cli(capsys, "validate", "--base", "no-such-branch")
    assert result.code == status_codes.CANNOT_RUN
    assert "git revision 'no-such-branch' not found" in result.err


def test_a_broken_base_does_not_fail_a_change_that_fixes_it(repo, capsys):
    (repo / "customers.yaml").write_text("customers: [\n")
    subprocess.run([*GIT, "commit", "-qam", "broken"], cwd=repo, check=True)
    subprocess.run([*GIT, "update-ref", "refs/remotes/origin/main", "HEAD"], cwd=repo, check=True)
    (repo / "customers.yaml").write_text(keep(1))
    result = run_cli(capsys, "validate")
    assert result.code == status_codes.OK
    assert result.out.splitlines()[1] == (
        "removal guard: not run: customers.yaml at origin/main does not pass validation, so nothing can be compared "
        "with it (the deploy compares with the last deployment)")


def test_another_file_is_compared_only_when_asked(repo, capsys, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(keep(1))
    result = run_cli(capsys, "validate", str(other))
    assert result.code == status_codes.OK
    assert "is not the stack's customers file (customers.yaml); pass --base REF" in result.out
    assert run_cli(capsys, "validate", str(other), "--base", "origin/main").code == 3


def test_the_guard_loads_no_pulumi(repo):
    (repo / "customers.yaml").write_text(keep(6))
    probe = ("import sys; from infra.cli import main; code = main(['validate']); "
             "print(code, any(m == 'pulumi' or m.startswith('pulumi.') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "0 False", result.stderr
    assert "removal guard: passes: 1 hostname removed since origin/main" in result.stdout
