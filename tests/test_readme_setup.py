"""The README's two set-up commands are what CI runs, so a new user's fresh clone works as CI's does."""

from __future__ import annotations

import re

from tests.conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()
CI = [line.strip() for line in (PROJECT_ROOT / ".ci/run").read_text().splitlines()
      if line.strip() and not line.lstrip().startswith("#")]


def setup_commands() -> list[str]:
    section = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.S)


def test_the_first_command_installs_as_ci_does_then_plans():
    first, _ = setup_commands()
    steps = first.split(" && ")
    assert steps[-1] == "saas-domains plan"  # on PATH: the step before activates .venv
    assert ". .venv/bin/activate" in steps
    positions = [CI.index(step) for step in steps[:-1]]  # every install step, in CI's order
    assert positions == sorted(positions)


def test_the_second_command_is_cis_last():
    _, second = setup_commands()
    assert CI[-1] == second == "pytest"


def test_no_command_in_the_readme_needs_uv_run():
    """After the set-up command `saas-domains`, `pytest` and `pulumi` are on PATH: the README says them so."""
    assert "uv run" not in README
