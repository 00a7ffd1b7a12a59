"""The `saas-domains` command as users and CI run it: output, --json and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli import main
from tests.conftest import PROJECT_ROOT, copy_example_project

BROKEN = "customers:\n  - id: mkdev\n    hostname: [mail.mkdev.me]\n  - id: Bad_Id\n    hostnames: [x.example.com]\n"


def cli(*args: str, cwd: Path = PROJECT_ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the command in a fresh interpreter, as the console script would."""
    return subprocess.run([sys.executable, "-m", "infra", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def project(tmp_path):
    """A copy of the project whose customers file a test may break."""
    return copy_example_project(tmp_path)


def test_validate_accepts_the_example_file(capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "customers.yaml: 3 customers, 4 hostnames" in out and "cap 5,000" in out


def test_validate_reports_every_problem_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    assert main(["validate", str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (f"{broken}: 3 problems, with the rules of stack dev (the default; set --stack or "
                                   "PULUMI_STACK)")
    assert f"{broken}:2: customer 'mkdev' (entry 1): missing required key 'hostnames'" in err
    assert f"{broken}:3: customer 'mkdev' (entry 1)" in err and "did you mean 'hostnames'" in err
    assert f"{broken}:4:" in err and "Bad_Id" in err


def test_validate_json_lists_problems_for_machines(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    assert main(["validate", str(broken), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is False and (document["stack"], document["stack_from"]) == ("dev", "default")
    assert [p["line"] for p in document["problems"]] == [2, 3, 4]
    assert document["problems"][0]["entry"] == "customer 'mkdev' (entry 1)"

    assert main(["validate", "--json", "--no-base"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {"valid": True, "file": "examples/customers.yaml", "stack": "dev", "stack_from": "default",
                        "customers": 3, "hostnames": 4, "maxHostnames": 5000, "problems": [],
                        "removal_guard": {"base": None, "compared": False, "removed": None, "max_removals": 5,
                                          "allow_removals": 0, "refused": False, "message": None,
                                          "note": "--no-base"}}


def test_validate_applies_the_stack_rules(project, capsys, monkeypatch):
    (project / "customers.yaml").write_text("customers:\n  - id: x\n    hostnames: [app.mailito.com]\n")
    monkeypatch.chdir(project)
    assert main(["validate"]) == 1
    assert "mailito.com" in capsys.readouterr().err  # inside the SaaS zone of Pulumi.dev.yaml


def test_validate_unknown_stack_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    assert main(["validate", "--stack", "prod"]) == 2
    assert ("Pulumi.prod.yaml: no such stack file (stacks here: dev, external-example, gcp-example, shard-example-0, "
            "shard-example-1, shard-example-2, shard-example-core)") in capsys.readouterr().err


def test_validate_does_not_import_pulumi():
    probe = ("import sys; from infra.cli import main; code = main(['validate']); "
             "print(code, any(m == 'pulumi' or m.startswith('pulumi.') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "0 False", result.stderr


def test_plan_renders_the_example_stack():
    result = cli("plan")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "not a diff against deployed state" in out
    assert "Origin authentication: 2 resources" in out
    assert "Origin (AWS): 9 resources" in out and "Edge (Cloudflare): 5 resources" in out
    assert "Customer hostnames (Cloudflare): 4 resources" in out
    assert "acme      mail.acme-corp.com, newsletter.acme-corp.com" in out
    assert "mail.mkdev.me                                 CNAME  mkdev.cname.mailito.com" in out
    assert "_cf-custom-hostname.mail.mkdev.me" in out
    assert "20 resources in 4 components; 3 customers, 4 custom hostnames; 4 provider lookups" in out
    assert "\033[" not in out  # no colour when not on a terminal


def test_plan_json_for_machines():
    result = cli("plan", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["stack"] == "dev" and "not a diff" in plan["note"]
    assert plan["counts"] == {"resources": 20, "components": 4, "customers": 3, "customHostnames": 4,
                              "providerLookups": 4}
    assert [c["title"] for c in plan["components"]] == [
        "Origin authentication", "Origin (AWS)", "Edge (Cloudflare)", "Customer hostnames (Cloudflare)"]
    acme = next(c for c in plan["customers"] if c["id"] == "acme")
    assert [h["hostname"] for h in acme["hostnames"]] == ["mail.acme-corp.com", "newsletter.acme-corp.com"]
    assert acme["hostnames"][0]["cname"] == {"name": "mail.acme-corp.com", "target": "acme.cname.mailito.com"}
    assert plan["outputs"]["fallbackOrigin"] == "proxy-fallback.mailito.com"


def test_plan_of_a_broken_file_exits_1_with_the_errors_and_declares_nothing(project):
    (project / "customers.yaml").write_text(BROKEN)
    result = cli("plan", cwd=project)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "declares nothing" in result.stderr
    assert "customers.yaml:3: customer 'mkdev' (entry 1)" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_warns_that_removing_origin_or_metadata_later_will_not_reach_cloudflare(project):
    (project / "customers.yaml").write_text("customers:\n  - id: mkdev\n    hostnames: [mail.mkdev.me]\n"
                                            "    origin: eu.mailito.com\n")
    result = cli("plan", cwd=project)
    assert result.returncode == 0, result.stderr
    assert ("warning: 1 hostname sets origin or metadata (mail.mkdev.me): removing either from the customers "
            "file later will not reach Cloudflare") in result.stdout
    assert json.loads(cli("plan", "--json", cwd=project).stdout)["provider_notes"] == [
        line.removeprefix("warning: ") for line in result.stdout.splitlines() if line.startswith("warning: ")]
    assert json.loads(cli("plan", "--json").stdout)["provider_notes"] == []  # the example sets neither


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("saas-domains")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "validate" in result.stdout and "plan" in result.stdout


# -- the one error path: commands raise, main() prints one message and returns the code ---------------


def test_main_alone_turns_a_command_error_into_its_message_and_code(capsys, monkeypatch):
    from infra.cli import validate
    from infra.cli.errors import CommandError

    def fails(args):
        raise CommandError("cannot do that", 1)

    monkeypatch.setattr(validate, "run", fails)
    assert main(["validate"]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "saas-domains validate: cannot do that\n")


def test_errors_of_the_layers_below_get_their_exit_code(capsys, monkeypatch):
    from infra.cli import status
    from infra.clients.cloudflare import CloudflareApiError

    for error, code, message in [
        (CloudflareApiError("the API failed"), 2, "saas-domains status: the API failed\n"),
        (ValueError("a bug"), None, None),
    ]:
        def fails(args, error=error):
            raise error

        monkeypatch.setattr(status, "run", fails)
        if code is None:  # not one of ours: a bug keeps its traceback
            with pytest.raises(ValueError, match="a bug"):
                main(["status"])
        else:
            assert main(["status"]) == code
            assert capsys.readouterr().err == message


def test_an_interrupt_exits_130(capsys, monkeypatch):
    from infra.cli import validate

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "run", interrupted)
    assert main(["validate"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_an_error_path_loads_neither_the_cloudflare_sdk_nor_pulumi():
    probe = ("import sys; from infra.cli import main; code = main(['validate', '--stack', 'prod']); "
             "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'cloudflare', 'pulumi'}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "2 []", result.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly():
    """`saas-domains plan | head`: no traceback when the pipe closes early."""
    import subprocess
    import sys

    command = subprocess.Popen([sys.executable, "-u", "-m", "infra", "plan"], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    command.stdout.readline()
    command.stdout.close()  # what `head -1` does once it has its line
    _, err = command.communicate(timeout=120)
    assert b"Traceback" not in err and command.returncode == 0
