"""One convention for every sub-command (issue 19, points 5 and 6), held by walking the parser itself.

`--format` with `--json` as its alias on every command that prints a report; `--stack` on every command that
reads a stack, chosen from --stack, then PULUMI_STACK, then dev, and named with the reason in every output;
a usage error prints the sub-command's usage and exits 2; a missing stack file exits 2 wherever the help says so.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil

import pytest

from infra.cli import build_parser, main, status_codes
from infra.cli.project import FROM_DEFAULT, FROM_ENVIRONMENT, FROM_OPTION, choose_stack
from infra.model.sharding import shard_of
from tests.cli.helpers import run_cli, with_customers_file
from tests.conftest import PROJECT_ROOT
from tests.fakes.cloudflare import custom_hostname

# fixtures: cloudflare_api (the local API), fresh_dns (the local DNS server), project (a copy of the project)
pytest_plugins = ["tests.fakes.ops_fixtures"]

# The arguments each sub-command needs before it parses at all; a new sub-command must be added here.
REQUIRED = {
    "validate": (), "plan": (), "diff": ("--base", "HEAD"), "status": (), "status-issue": ("--report", "r.json"),
    "instructions": ("mail.mkdev.me",), "check": ("mail.mkdev.me",), "import": (), "reshard": ("--to", "2"),
    "stacks": (),
}
READS_A_STACK = {"validate", "plan", "diff", "status", "instructions", "check", "import", "stacks"}
MARKDOWN = {"validate", "diff", "status", "instructions", "check"}  # reports for a ticket, comment or summary
DEFAULT_STACK_NOTE = "stack dev (the default; set --stack or PULUMI_STACK)"


def sub_commands() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_the_table_names_every_sub_command():
    assert set(sub_commands()) == set(REQUIRED)


@pytest.mark.parametrize("command", sorted(REQUIRED))
def test_every_command_takes_format_and_json_as_its_alias(command):
    parser = sub_commands()[command]
    formats = option(parser, "--format")
    assert formats is not None and {"text", "json"} <= set(formats.choices)
    assert ("markdown" in formats.choices) == (command in MARKDOWN)
    assert formats.default == ("json" if command == "stacks" else "text")  # stacks: the workflows read its JSON
    for argv in (["--format", "json"], ["--json"]):
        assert parser.parse_args([*REQUIRED[command], *argv]).format == "json"
    assert "the same as --format json" in parser.format_help()


@pytest.mark.parametrize("command", sorted(REQUIRED))
def test_every_command_that_reads_a_stack_takes_stack(command):
    parser = sub_commands()[command]
    assert (option(parser, "--stack") is not None) == (command in READS_A_STACK)
    assert option(parser, "--project-dir") is not None or command == "status-issue"


@pytest.mark.parametrize("command", sorted(REQUIRED))
def test_a_usage_error_prints_the_sub_commands_usage_and_exits_2(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, *REQUIRED[command], "--no-such-option"])
    assert exited.value.code == status_codes.CANNOT_RUN
    err = capsys.readouterr().err
    assert err.startswith(f"usage: saas-domains {command} ")
    assert err.endswith(f"saas-domains {command}: error: unrecognized arguments: --no-such-option\n")


@pytest.mark.parametrize("command", sorted(REQUIRED))
def test_the_help_of_every_command_names_its_exit_codes_from_the_table(command):
    """"Exit 0 when valid, 1 when ...", "Exit codes: 0 fine; 1 ...; 2 cannot run": codes of status_codes only, 2 for
    what cannot run (a usage error among it), and 3 only where the removal guard runs."""
    description = sub_commands()[command].description
    named = {int(code) for code in re.findall(r"(?:\bExit(?: codes:)?|[,;]) (\d+)\b", description)}
    assert status_codes.CANNOT_RUN in named and named <= set(status_codes.MEANINGS)
    assert (status_codes.REMOVAL_GUARD in named) == (command in {"diff", "validate"})


@pytest.mark.parametrize(("argv", "message"), [
    (("status", "--max-rows", "-1"), "--max-rows must be 0 or more, got -1"),
    (("reshard", "--to", "0"), "--to must be at least 1, got 0"),
    (("check", "mail.mkdev.me", "--timeout", "0"), "--timeout must be a number of seconds above 0, got 0"),
    (("stacks", "dev", "--stack", "gcp-example"), "STACK dev and --stack gcp-example name two stacks; give one"),
])
def test_a_value_out_of_range_is_a_usage_error_too(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    result = run_cli(capsys, *argv)
    assert result.code == status_codes.CANNOT_RUN and result.out == ""
    assert result.err.startswith(f"usage: saas-domains {argv[0]} ")
    assert result.err.endswith(f"saas-domains {argv[0]}: error: {message}\n")


# -- which stack, and saying so ---------------------------------------------------------------------------------


def test_the_stack_is_the_option_then_pulumi_stack_then_dev():
    assert choose_stack("prod", {"PULUMI_STACK": "core"}).source == FROM_OPTION
    chosen = choose_stack(None, {"PULUMI_STACK": " core "})
    assert (chosen.name, chosen.source) == ("core", FROM_ENVIRONMENT)
    assert chosen.describe() == "stack core (from PULUMI_STACK)"
    for environ in ({}, {"PULUMI_STACK": ""}):
        chosen = choose_stack(None, environ)
        assert (chosen.name, chosen.source, chosen.describe()) == ("dev", FROM_DEFAULT, DEFAULT_STACK_NOTE)


@pytest.mark.parametrize("command", sorted(READS_A_STACK))
def test_a_missing_stack_file_exits_2_for_every_command_that_reads_one(command, capsys, monkeypatch):
    """`plan --stack prod` too: no stack file is "cannot run" (2), as its help says, not "the program stopped"."""
    monkeypatch.chdir(PROJECT_ROOT)
    result = run_cli(capsys, command, *REQUIRED[command], "--stack", "prod")
    assert result.code == status_codes.CANNOT_RUN and result.out == ""
    assert result.err.startswith(f"saas-domains {command}: Pulumi.prod.yaml: no such stack file (stacks here: ")
    monkeypatch.setenv("PULUMI_STACK", "prod")  # not given: the message says where the name came from
    result = run_cli(capsys, command, *REQUIRED[command])
    assert result.code == status_codes.CANNOT_RUN
    assert result.err.rstrip().endswith("; stack prod (from PULUMI_STACK)")


def test_validate_reads_pulumi_stack_and_says_so(capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.setenv("PULUMI_STACK", "gcp-example")
    document = json.loads(run_cli(capsys, "validate", "--json", "--no-base").out)
    assert (document["stack"], document["stack_from"]) == ("gcp-example", "PULUMI_STACK")
    document = json.loads(run_cli(capsys, "validate", "--json", "--no-base", "--stack", "dev").out)
    assert (document["stack"], document["stack_from"]) == ("dev", "--stack")
    monkeypatch.delenv("PULUMI_STACK")
    text = run_cli(capsys, "validate", "--no-base").out.splitlines()[0]
    assert text.endswith(f"; {DEFAULT_STACK_NOTE}")
    markdown = run_cli(capsys, "validate", "--no-base", "--format", "markdown").out
    assert f"with the rules of {DEFAULT_STACK_NOTE}" in markdown


def test_stacks_names_the_stack_in_json_and_text(capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    document = json.loads(run_cli(capsys, "stacks").out)
    assert (document["stack"], document["stack_from"], document["role"]) == ("dev", "default", "all")
    assert json.loads(run_cli(capsys, "stacks", "dev").out)["stack_from"] == "--stack"  # the workflows' argument
    assert json.loads(run_cli(capsys, "stacks", "--stack", "dev", "--json").out)["stack_from"] == "--stack"
    text = run_cli(capsys, "stacks", "--stack", "shard-example-core", "--format", "text").out
    assert text.splitlines()[0] == "saas-domains stacks: stack shard-example-core (given with --stack), role core"
    assert "  3 shard stacks, at most 3 at once, 1 operation in parallel each:" in text


def test_the_zone_commands_name_the_stack_in_every_format(project, cloudflare_api, fresh_dns, capsys):
    cloudflare_api.hostnames = [custom_hostname("mail.mkdev.me")]
    fresh_dns.load("mailito.com. 300 IN SOA ns.mailito.com. dns.mailito.com. 1 3600 600 86400 300\n"
                   "mkdev.cname.mailito.com. 300 IN A 104.16.1.1\n"
                   "mail.mkdev.me. 300 IN CNAME mkdev.cname.mailito.com.")
    dns = ("--resolver", fresh_dns.resolver_argument, "--timeout", "1", "--no-api")
    for argv in (("status",), ("instructions", "mail.mkdev.me"), ("check", "mail.mkdev.me", *dns),
                 ("import", "--dry-run")):
        document = json.loads(run_cli(capsys, *argv, "--json").out)
        assert (document["stack"], document["stack_from"]) == ("dev", "default"), argv
        text = run_cli(capsys, *argv)
        where = text.err if argv[0] == "instructions" else text.out.splitlines()[0]  # the e-mail stays clean
        assert DEFAULT_STACK_NOTE in where, argv
        if argv[0] in MARKDOWN:
            markdown = run_cli(capsys, *argv, "--format", "markdown")
            assert DEFAULT_STACK_NOTE in (markdown.err if argv[0] == "instructions" else markdown.out), argv


# -- plan: plurals, and no table of headers over nothing ---------------------------------------------------------


@pytest.fixture
def sharded_plan_project(tmp_path, monkeypatch):
    """The example core and shard stack files over a customers file whose one hostname is shard 0's."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    for name in ("Pulumi.shard-example-core.yaml", "Pulumi.shard-example-0.yaml"):
        (tmp_path / name).write_text(with_customers_file((PROJECT_ROOT / name).read_text()))
    hostname = next(h for h in (f"www{i}.example.org" for i in range(50)) if shard_of(h, 3) == 0)
    (tmp_path / "customers.yaml").write_text(f"customers:\n  - id: acme\n    hostnames: [{hostname}]\n")
    monkeypatch.chdir(tmp_path)
    return hostname


def test_plan_of_a_shard_and_of_its_core_count_right_and_print_no_empty_table(sharded_plan_project, capsys):
    shard = run_cli(capsys, "plan", "--stack", "shard-example-0")
    assert shard.code == 0, shard.err
    lines = shard.out.splitlines()
    assert lines[0] == "saas-domains plan: stack shard-example-0 (given with --stack)"
    assert "Customer hostnames (Cloudflare): 1 resource" in lines
    assert lines[lines.index("Stack outputs (values the clouds assign are placeholders here)") + 1] == "  none"
    assert lines[-1].startswith("1 resource in 1 component; 1 customer, 1 custom hostname; 0 provider lookups; ")

    core = run_cli(capsys, "plan", "--stack", "shard-example-core")
    assert core.code == 0, core.err
    lines = core.out.splitlines()
    heading = lines.index("What each customer must add to their DNS")
    assert lines[heading + 1] == "  nothing: this stack declares no custom hostname (its shard stacks do)"
    assert not any(line.split() == ["CUSTOMER", "NAME", "TYPE", "CONTENT"] for line in lines)
    assert "0 customers, 0 custom hostnames" in lines[-1]
