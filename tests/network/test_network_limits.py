"""The one policy for every network call (infra/clients/network_limits.py): its settings, where they are
stated, the clocks, and the writers that write all at once or not at all."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from infra.cli import main
from infra.clients.network_limits import (
    COMMAND_TIMEOUT_VARIABLE,
    DEFAULT_COMMAND_SECONDS,
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_REQUEST_SECONDS,
    MAX_ANSWER_VARIABLE,
    OUT_OF_TIME,
    REQUEST_TIMEOUT_VARIABLE,
    SETTINGS,
    Budget,
    Limits,
    LimitsError,
    NetworkFailure,
)
from infra.operations import files as files_module
from infra.operations.files import write_atomically
from tests.conftest import PROJECT_ROOT, copy_example_project
from tests.fakes.faults import Fault, faulty_cloudflare
from tests.network.matrix import REQUEST, snapshot
from tests.network.test_cloudflare_commands import zone


def test_the_defaults_and_how_the_environment_raises_them():
    assert Limits.from_environment({}) == Limits(30.0, 600.0, 64 * 1024 * 1024)
    assert (DEFAULT_REQUEST_SECONDS, DEFAULT_COMMAND_SECONDS, DEFAULT_MAX_ANSWER_BYTES) == (30, 600, 67_108_864)
    raised = Limits.from_environment({REQUEST_TIMEOUT_VARIABLE: "90", COMMAND_TIMEOUT_VARIABLE: "1800.5",
                                      MAX_ANSWER_VARIABLE: "268435456"})
    assert raised == Limits(90.0, 1800.5, 268_435_456)


@pytest.mark.parametrize("variable, value", [(REQUEST_TIMEOUT_VARIABLE, "0"), (REQUEST_TIMEOUT_VARIABLE, "-1"),
                                             (COMMAND_TIMEOUT_VARIABLE, "inf"), (COMMAND_TIMEOUT_VARIABLE, "ten"),
                                             (MAX_ANSWER_VARIABLE, "1.5"), (MAX_ANSWER_VARIABLE, "64MiB")])
def test_a_limit_that_is_no_positive_number_is_refused_by_name(variable, value):
    with pytest.raises(LimitsError, match=f"^{variable} must be a number of .* above 0, got {value!r}"):
        Limits.from_environment({variable: value})


def test_help_and_the_readme_state_the_same_settings_and_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = " ".join(capsys.readouterr().out.split("network limits", 1)[1].split())
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    commands = " ".join(readme.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0].split())
    for name, meaning in SETTINGS:
        assert f"{name} {' '.join(meaning.split())}" in shown
        assert f"`{name}`" in commands
    for default in ("30 s", "600 s", "64 MiB"):
        assert default in commands


@pytest.mark.parametrize("command", ["status", "instructions", "check", "import", "status-issue"])
def test_each_network_command_names_the_limits_in_its_help(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"Each request ends within {REQUEST_TIMEOUT_VARIABLE} (default 30 s)" in text
    assert f"the command within {COMMAND_TIMEOUT_VARIABLE} (default 600 s)" in text


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_request_gets_the_request_timeout_or_what_is_left_of_the_command():
    clock = Clock()
    budget = Budget(Limits(request_seconds=30, command_seconds=100), clock=clock)
    first = budget.attempt()
    assert (first.seconds, first.cut_short) == (30, False)
    clock.now += 29
    assert first.timeout(60) == pytest.approx(1) and first.timeout(0.5) == 0.5
    clock.now += 1
    with pytest.raises(TimeoutError):
        first.timeout(60)
    clock.now += 60  # 10 s of the command left
    late = budget.attempt()
    assert (late.seconds, late.cut_short) == (pytest.approx(10), True)
    assert "what was left of the command's deadline of 100 s" in late.late().said and not late.late().transient
    assert budget.refuses_wait(9) is None
    assert budget.refuses_wait(10) == ("not retried: waiting 10 s would pass the command's deadline of 100 s "
                                       f"({COMMAND_TIMEOUT_VARIABLE})")
    clock.now += 10
    with pytest.raises(NetworkFailure) as failure:
        budget.attempt()
    assert failure.value.kind == OUT_OF_TIME and not failure.value.transient
    assert str(failure.value) == f"the command's deadline of 100 s ({COMMAND_TIMEOUT_VARIABLE}) has passed"


# -- writing all at once or not at all ---------------------------------------------------------------------


def test_an_atomic_write_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "customers.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomically(path, "new\n")
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["customers.yaml"]


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    path.write_text("old\n")
    before = snapshot(path)

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_module.os, "replace", full_disk)
    with pytest.raises(OSError):
        write_atomically(path, "new\n")
    assert snapshot(path) == before and [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_report_that_cannot_be_written_is_a_clear_error(tmp_path, monkeypatch, capsys):
    """status --save-report into a folder that does not exist: exit 2 naming the file, nothing half-written."""
    monkeypatch.chdir(tmp_path)
    copy_example_project(tmp_path)
    fake = zone()
    with faulty_cloudflare(fake) as _:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", fake.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
        code = main(["status", "--save-report", "missing/report.json"])
    assert code == 2 and "cannot write the report to missing/report.json" in capsys.readouterr().err


# -- as a person runs it: the console script, in its own process -----------------------------------------------


def console(project, fake, *argv: str, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    environ = {**os.environ, "CLOUDFLARE_API_TOKEN": fake.token, "CLOUDFLARE_BASE_URL": fake.base_url,
               REQUEST_TIMEOUT_VARIABLE: str(REQUEST), COMMAND_TIMEOUT_VARIABLE: "1.5", **env}
    for variable in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        environ.pop(variable, None)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "infra", *argv], cwd=project, env=environ, capture_output=True,
                          text=True, timeout=60)
    return done, time.monotonic() - started


@pytest.fixture
def project(tmp_path):
    copy_example_project(tmp_path)
    (tmp_path / "report.json").write_text('{"the": "previous report"}\n')
    return tmp_path


def test_a_maintenance_page_instead_of_json_ends_status_with_one_line_not_a_traceback(project):
    """The issue's example: a 200 whose body is a proxy's maintenance page."""
    files = snapshot(project / "report.json")
    fake = zone()
    with faulty_cloudflare(fake, Fault("maintenance", at=3)):
        done, _ = console(project, fake, "status", "--save-report", "report.json")
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"saas-domains status: Cloudflare API at {fake.base_url}/, while listing custom hostnames "
                           "(page 2): the answer is an HTML page")
    assert snapshot(project / "report.json") == files


def test_a_trickling_answer_ends_import_at_the_deadline(project):
    files = snapshot(project / "customers.yaml")
    fake = zone()
    with faulty_cloudflare(fake, Fault("trickle", at=2)):
        done, elapsed = console(project, fake, "import")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"no complete answer within {REQUEST:g} s (SAAS_DOMAINS_REQUEST_TIMEOUT)" in done.stderr
    assert elapsed < 10  # interpreter start-up included: not the days a per-read timeout allows
    assert snapshot(project / "customers.yaml") == files
    assert not (project / "Pulumi.dev.import.json").exists()
    assert json.loads((project / "report.json").read_text()) == {"the": "previous report"}


def test_every_client_waits_by_the_one_retry_rule():
    """Backoff doubles from the first wait; what the service asks for wins; neither exceeds max_wait or
    goes below zero (a reset time already past)."""
    from infra.clients import cloudflare, github
    from infra.clients.network_limits import RetryPolicy

    policy = RetryPolicy(attempts=4, max_wait=5.0, first_backoff=1.0)
    assert [policy.delay(attempt) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, asked=3.5) == 3.5 and policy.delay(1, asked=600) == 5.0 and policy.delay(2, -7) == 0.0
    assert isinstance(cloudflare.RETRY, RetryPolicy) and isinstance(github.RETRY, RetryPolicy)
    assert cloudflare.CloudflareApi.__init__.__kwdefaults__["retry"] is cloudflare.RETRY
    assert github.GitHubApi.__init__.__kwdefaults__["retry"] is github.RETRY
