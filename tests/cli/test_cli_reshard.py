"""`saas-domains reshard`: the moves for all -> core + 3 shards and for 3 -> 4 shards, the commands, --execute."""

from __future__ import annotations

import json
import stat
import textwrap
from pathlib import Path

import pytest

from infra.clients.pulumi_cli import parse_pulumi_version
from infra.model.names import custom_hostname_urn
from infra.model.sharding import shard_of
from infra.operations.zone import load_zone_stack
from tests.cli.helpers import run_cli
from tests.conftest import PROJECT_ROOT

EXAMPLE_HOSTNAMES = ("mail.acme-corp.com", "mail.mkdev.me", "newsletter.acme-corp.com", "post.globex.io")
CORE = "organization/saas-domains/shard-example-core"

pytest_plugins = ["tests.fakes.ops_fixtures"]  # cloudflare_api, and `project`: a copy of the project (stack dev)


def stack_file(folder: Path, stack: str, **settings: object) -> None:
    lines = ["config:", "  saas-domains:zone: mailito.com"]
    lines += [f"  saas-domains:{key}: {json.dumps(value)}" for key, value in settings.items()]
    (folder / f"Pulumi.{stack}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def shard_files(folder: Path, prefix: str, shards: int, core: str = CORE) -> None:
    for index in range(shards):
        stack_file(folder, f"{prefix}{index}", role="shard", coreStack=core, shard=index, shards=shards)


def generated_customers(folder: Path, customers: int, per_customer: int) -> list[str]:
    hostnames = [f"h{c:04}-{n}.customer{c:04}.example.net" for c in range(customers) for n in range(per_customer)]
    body = "customers:\n" + "".join(
        f"  - id: c{c:04}\n    hostnames: [{', '.join(hostnames[c * per_customer:(c + 1) * per_customer])}]\n"
        for c in range(customers))
    (folder / "customers.yaml").write_text(body, encoding="utf-8")
    return hostnames


def reshard_json(capsys, *argv: str) -> dict:
    result = run_cli(capsys, "reshard", *argv, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


# -- all -> core + 3 shards: the repository's example ----------------------------------------------------------


def test_the_example_moves_from_one_all_stack_to_core_and_three_shards(project, capsys):
    report = reshard_json(capsys, "--to", "3", "--from-all", "dev", "--stack-prefix", "shard-example-")
    # Every hostname leaves the all stack, which stays as the core; the assignment is the pinned hash.
    assert report["hostnames"] == 4 and report["moves"] == 4 and report["stay"] == 0
    assert {h: shard_of(h, 3) for h in EXAMPLE_HOSTNAMES} == {
        "mail.acme-corp.com": 1, "mail.mkdev.me": 1, "newsletter.acme-corp.com": 0, "post.globex.io": 2}
    assert report["per_move"] == [{"source": "dev", "dest": "shard-example-0", "hostnames": 1},
                                  {"source": "dev", "dest": "shard-example-1", "hostnames": 2},
                                  {"source": "dev", "dest": "shard-example-2", "hostnames": 1}]
    assert report["per_shard_after"] == {"shard-example-0": 1, "shard-example-1": 2, "shard-example-2": 1}
    assert report["core"] == "dev" and report["up_order"][0] == "dev"
    assert report["up_order"] == ["dev", "shard-example-0", "shard-example-1", "shard-example-2"]
    assert "pulumi config set --stack dev saas-domains:role core" in report["config"]
    assert ("pulumi config set --stack shard-example-2 saas-domains:coreStack organization/saas-domains/dev"
            in report["config"])
    assert report["new_stacks"] == [f"organization/saas-domains/shard-example-{i}" for i in range(3)]
    batch = report["batches"][1]
    assert batch["argv"] == [
        "pulumi", "state", "move", "--source", "organization/saas-domains/dev",
        "--dest", "organization/saas-domains/shard-example-1", "--yes",
        "urn:pulumi:dev::saas-domains::saas-domains:index:CustomerHostnames$cloudflare:index/customHostname:"
        "CustomHostname::mail.acme-corp.com",
        "urn:pulumi:dev::saas-domains::saas-domains:index:CustomerHostnames$cloudflare:index/customHostname:"
        "CustomHostname::mail.mkdev.me"]
    # 4 moved out of dev, within its maxRemovals of 5: no confirmation needed for the core's `up`.
    assert report["removal_confirmations"] == [
        {"stack": "dev", "moved_out": 4, "max_removals": 5, "needs_confirmation": False}]


def test_the_dry_run_text_names_the_backend_the_order_and_the_removal_guard(project, capsys):
    result = run_cli(capsys, "reshard", "--to", "3", "--from-all", "dev", "--stack-prefix", "shard-example-")
    assert result.code == 0
    assert result.out.splitlines()[0] == ("saas-domains reshard: zone mailito.com, from one stack of role all, dev "
                                          "to 3 shard stacks (dry run, nothing moved)")
    assert "4 hostnames: 4 move (100.0%), 0 stay where they are." in result.out
    assert "Pulumi CLI 3.127 or later" in result.out and "one backend that holds both stacks" in result.out
    assert "pulumi stack init organization/saas-domains/shard-example-0" in result.out
    assert ("pulumi state move --source organization/saas-domains/dev --dest organization/saas-domains/"
            "shard-example-2 --yes 'urn:pulumi:dev::saas-domains::saas-domains:index:CustomerHostnames$cloudflare:"
            "index/customHostname:CustomHostname::post.globex.io'") in result.out
    assert "removal guard counts them as removed" in result.out and "deletes none of them" in result.out
    assert "run no `pulumi up`" in result.out
    assert "dev (now the core) declares no custom hostname" in result.out


def test_a_source_over_its_max_removals_is_told_the_one_off_confirmation(project, capsys):
    shard_files(project, "shard-", 1, core="organization/saas-domains/dev")
    generated_customers(project, 10, 2)
    report = reshard_json(capsys, "--to", "2")
    (confirmation,) = report["removal_confirmations"]
    assert confirmation["stack"] == "shard-0" and confirmation["moved_out"] > 5  # about half of 20
    assert confirmation["needs_confirmation"]
    result = run_cli(capsys, "reshard", "--to", "2")
    assert (f"pulumi config set --stack shard-0 saas-domains:allowRemovals {confirmation['moved_out']}"
            in result.out)


def test_the_repositorys_own_example_stacks(capsys):
    """The committed stack files: dev (all) -> shard-example-core + shard-example-{0,1,2}, then 3 -> 4."""
    first = reshard_json(capsys, "--project-dir", str(PROJECT_ROOT), "--to", "3", "--from-all", "dev",
                         "--stack-prefix", "shard-example-")
    assert (first["moves"], first["per_shard_after"]) == (
        4, {"shard-example-0": 1, "shard-example-1": 2, "shard-example-2": 1})
    assert first["new_stacks"] == []  # the example's stack files exist
    grown = reshard_json(capsys, "--project-dir", str(PROJECT_ROOT), "--to", "4")
    assert grown["from"]["stacks"] == ["shard-example-0", "shard-example-1", "shard-example-2"]
    assert grown["core"] == "shard-example-core" and grown["up_order"][0] == "shard-example-core"
    # None of the four example hostnames is taken by the fourth shard (jump hash: each keeps its shard).
    assert (grown["hostnames"], grown["moves"]) == (4, 0)
    assert grown["per_shard_after"] == {"shard-example-0": 1, "shard-example-1": 2, "shard-example-2": 1,
                                        "shard-example-3": 0}


# -- 3 -> 4 shards, a generated file ----------------------------------------------------------------------------


def test_three_to_four_shards_moves_about_a_quarter_all_to_the_new_shard(project, capsys):
    hostnames = generated_customers(project, 400, 5)  # 2,000 hostnames
    shard_files(project, "shard-", 3)
    report = reshard_json(capsys, "--to", "4")  # the current shards and the prefix come from the stack files
    assert report["from"]["stacks"] == ["shard-0", "shard-1", "shard-2"]
    assert report["to"]["stacks"] == ["shard-0", "shard-1", "shard-2", "shard-3"]
    assert report["hostnames"] == 2000
    expected = sum(1 for h in hostnames if shard_of(h, 4) == 3)
    assert report["moves"] == expected
    assert 0.22 <= report["moved_fraction"] <= 0.28  # 1/4, within 3 standard deviations at 2,000 hostnames
    assert {m["dest"] for m in report["per_move"]} == {"shard-3"}  # jump hash: only the new shard takes
    assert {m["source"] for m in report["per_move"]} == {"shard-0", "shard-1", "shard-2"}
    assert report["core"] == "shard-example-core" and report["up_order"][0] == "shard-example-core"
    assert report["up_order"][1] == "shard-3"
    assert sum(report["per_shard_after"].values()) == 2000
    assert report["config"] == [f"pulumi config set --stack shard-{i} saas-domains:shards 4" for i in range(3)] + [
        "pulumi config set --stack shard-3 saas-domains:role shard",
        f"pulumi config set --stack shard-3 saas-domains:coreStack {CORE}",
        "pulumi config set --stack shard-3 saas-domains:shard 3",
        "pulumi config set --stack shard-3 saas-domains:shards 4"]
    # batches of at most --batch URNs, one source and one destination each, every move exactly once
    small = reshard_json(capsys, "--to", "4", "--batch", "50")
    moved = [h for b in small["batches"] for h in b["hostnames"]]
    assert sorted(moved) == sorted(h for h in hostnames if shard_of(h, 3) != shard_of(h, 4))
    assert all(len(b["hostnames"]) <= 50 for b in small["batches"])
    assert all(b["argv"][-len(b["hostnames"]):] == [custom_hostname_urn(b["source"], h) for h in b["hostnames"]]
               for b in small["batches"])


def test_shrinking_retires_the_last_shard(project, capsys):
    generated_customers(project, 50, 2)
    shard_files(project, "shard-", 3)
    report = reshard_json(capsys, "--to", "2")
    assert report["retired_stacks"] == ["shard-2"]
    assert {m["source"] for m in report["per_move"]} == {"shard-2"}
    assert report["moves"] == sum(1 for c in range(50) for n in range(2)
                                  if shard_of(f"h{c:04}-{n}.customer{c:04}.example.net", 3) == 2)


def test_nothing_to_move_when_the_count_does_not_change(project, capsys):
    shard_files(project, "shard-", 3)
    result = run_cli(capsys, "reshard", "--to", "3")
    assert result.code == 0 and "Nothing to move." in result.out


# -- refusals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "files", "message"), [
    (("--to", "3", "--from-all", "shard-0", "--stack-prefix", "s-"), 1, "its saas-domains:role is shard, not all"),
    (("--to", "4"), 0, "no stack file of role shard here"),
    (("--to", "0", "--from-all", "dev", "--stack-prefix", "s-"), 0, "--to must be at least 1"),
    (("--to", "2", "--shard-stacks", "a"), 1, "--shard-stacks names 1 stack for --to 2"),
    (("--to", "2", "--from-all", "dev"), 0, "name the shard stacks"),
])
def test_refusals_exit_2(project, capsys, argv, files, message):
    shard_files(project, "shard-", files)
    result = run_cli(capsys, "reshard", *argv)
    assert result.code == 2
    assert message in result.err


def test_stack_files_that_disagree_on_the_count_are_refused(project, capsys):
    shard_files(project, "shard-", 3)
    stack_file(project, "shard-3", role="shard", coreStack=CORE, shard=3, shards=4)  # created ahead of time
    result = run_cli(capsys, "reshard", "--to", "4")
    assert result.code == 2 and "do not describe one layout" in result.err
    assert "shard-3 (shard 3 of 4)" in result.err


def test_an_invalid_customers_file_exits_1(project, capsys):
    (project / "customers.yaml").write_text("customers: [{id: BAD id, hostnames: [x]}]\n", encoding="utf-8")
    result = run_cli(capsys, "reshard", "--to", "3", "--from-all", "dev", "--stack-prefix", "s-")
    assert result.code == 1


# -- --execute with a stand-in Pulumi CLI ---------------------------------------------------------------------


def fake_pulumi(folder: Path, version: str = "v3.140.0", fail_on_call: int = 0) -> tuple[Path, Path]:
    """A `pulumi` that logs each call's argv as a JSON line, answers `version`, keeps the stacks `stack init`
    made for `stack ls --json` (state move needs its destination to exist), and can fail one state move."""
    log = folder / "calls.jsonl"
    stacks = folder / "stacks.json"
    script = folder / "pulumi"
    script.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env python3
        import json, os, sys
        if sys.argv[1:] == ["version"]:
            print({version!r}); sys.exit(0)
        with open({str(log)!r}, "a") as out:
            out.write(json.dumps(sys.argv[1:]) + "\\n")
        made = json.load(open({str(stacks)!r})) if os.path.exists({str(stacks)!r}) else []
        if sys.argv[1:3] == ["stack", "ls"]:
            print(json.dumps([{{"name": name.rsplit("/", 1)[-1]}} for name in made])); sys.exit(0)
        if sys.argv[1:3] == ["stack", "init"]:
            json.dump(made + [sys.argv[-1]], open({str(stacks)!r}, "w")); sys.exit(0)
        moves = sum(1 for line in open({str(log)!r}) if line.startswith('["state", "move"'))
        if moves == {fail_on_call}:
            print("error: the destination stack is locked", file=sys.stderr); sys.exit(255)
        """), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def moves(log: Path) -> list[list[str]]:
    return [c for c in calls(log) if c[:2] == ["state", "move"]]


def test_execute_runs_each_batch_once(project, capsys, tmp_path):
    pulumi, log = fake_pulumi(tmp_path)
    result = run_cli(capsys, "reshard", "--to", "3", "--from-all", "dev", "--stack-prefix", "shard-example-",
                     "--execute", "--batch", "1", "--pulumi", str(pulumi))
    assert result.code == 0, result.err
    made = moves(log)
    assert len(made) == 4 and all(c[:3] == ["state", "move", "--source"] and "--yes" in c for c in made)
    assert sorted(c[-1].rsplit("::", 1)[1] for c in made) == sorted(EXAMPLE_HOSTNAMES)
    # the new shard stacks are created first, without changing the selected stack
    created = [c for c in calls(log) if c[:2] == ["stack", "init"]]
    assert created == [["stack", "init", "--no-select", f"organization/saas-domains/shard-example-{i}"]
                       for i in range(3)]
    assert calls(log).index(created[-1]) < calls(log).index(made[0])
    assert "All moves done." in result.out


def test_execute_stops_at_a_failed_batch_and_says_how_to_resume(project, capsys, tmp_path):
    pulumi, log = fake_pulumi(tmp_path, fail_on_call=2)
    argv = ("reshard", "--to", "3", "--from-all", "dev", "--stack-prefix", "shard-example-", "--execute",
            "--pulumi", str(pulumi))
    result = run_cli(capsys, *argv)
    assert result.code == 2
    assert "failed on batch 2 of 3" in result.err and "the destination stack is locked" in result.err
    assert "--from-batch 2" in result.err
    resumed = run_cli(capsys, *argv, "--from-batch", "2")
    assert resumed.code == 0
    assert [c[5] for c in moves(log)] == [f"organization/saas-domains/shard-example-{i}" for i in (0, 1, 1, 2)]
    assert len([c for c in calls(log) if c[:2] == ["stack", "init"]]) == 3  # not again on resuming


def test_execute_refuses_a_pulumi_cli_without_state_move(project, capsys, tmp_path):
    pulumi, log = fake_pulumi(tmp_path, version="v3.126.1")
    result = run_cli(capsys, "reshard", "--to", "3", "--from-all", "dev", "--stack-prefix", "shard-example-",
                     "--execute", "--pulumi", str(pulumi))
    assert result.code == 2 and "needs the Pulumi CLI 3.127 or later" in result.err
    assert calls(log) == []


def test_pulumi_versions_are_read():
    assert parse_pulumi_version("v3.127.0\n") == (3, 127, 0)
    assert parse_pulumi_version("3.130.1-alpha.x1") == (3, 130, 1)
    assert parse_pulumi_version("warning: something") is None


def test_help_documents_the_arguments_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        run_cli(capsys, "reshard", "--help")
    text = " ".join(capsys.readouterr().out.split())
    for needle in ("--to N", "--from-all STACK", "--stack-prefix PREFIX", "--shard-stacks", "--execute",
                   "--batch SIZE", "--from-batch K", "--json", "Exit codes: 0 planned",
                   "3.127 or later"):
        assert needle in text


# -- the zone-wide commands work from any role's stack --------------------------------------------------------
# status, instructions, check and import read the zone, which is whole: the whole customers file from any stack.


def sharded_project(project: Path) -> None:
    stack_file(project, "core", role="core", customersFile="customers.yaml")
    shard_files(project, "shard-", 3, core="organization/saas-domains/core")


@pytest.mark.parametrize("stack", ["dev", "core", "shard-0", "shard-1", "shard-2"])
def test_load_stack_reads_the_whole_customers_file_from_any_role(project, stack):
    sharded_project(project)
    loaded = load_zone_stack(project, stack)
    assert sorted(h.hostname for h in loaded.customers.hostnames) == sorted(EXAMPLE_HOSTNAMES)


@pytest.mark.parametrize("stack", ["core", "shard-0"])
def test_status_from_a_core_or_a_shard_reports_the_whole_zone(project, cloudflare_api, capsys, stack):
    sharded_project(project)
    cloudflare_api.fallback = {"origin": "proxy-fallback.mailito.com", "status": "active", "errors": [],
                               "created_at": "2026-01-01T00:00:00Z"}
    result = run_cli(capsys, "status", "--stack", stack, "--json")
    report = json.loads(result.out)
    assert report["summary"]["declared"] == 4  # not shard 0's one hostname
    assert sorted(m["hostname"] for m in report["missing_in_cloudflare"]) == sorted(EXAMPLE_HOSTNAMES)


def test_instructions_from_one_shard_for_a_hostname_of_another(project, cloudflare_api, capsys):
    sharded_project(project)
    assert shard_of("post.globex.io", 3) == 2
    result = run_cli(capsys, "instructions", "post.globex.io", "--stack", "shard-0", "--format", "json")
    assert "globex.cname.mailito.com" in result.out


def test_a_shard_and_its_core_must_share_the_customers_file(project, capsys):
    sharded_project(project)
    stack_file(project, "shard-1", role="shard", coreStack="organization/saas-domains/core", shard=1, shards=3,
               customersFile="other.yaml")
    result = run_cli(capsys, "status", "--stack", "shard-1")
    assert result.code == 2
    assert "a zone's stacks share one zone and one customers file" in result.err
