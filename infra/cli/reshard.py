"""`saas-domains reshard`: move custom hostnames between stacks when the shard count changes, without
replacing or deleting a single one.

It reads the stack files (where each hostname lives now: one `all` stack, or shard i of the current
N) and the one customers file, then prints, or with --execute runs, the `pulumi state move` commands
in batches, and says what to change in the stack files and which stacks to `up`, in which order.
The plan is infra/operations/reshard.py; this module reads files, prints and runs commands.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

from infra.cli import status_codes
from infra.cli.errors import CommandError, SetupError, UsageError
from infra.cli.project import add_project_dir_argument, find_project_dir, stack_settings
from infra.cli.terminal import JSON, TEXT, add_format_arguments, plural, print_json, style, table
from infra.model.customers import load_customers
from infra.model.names import PROJECT
from infra.model.settings import ALL_ROLE, CORE_ROLE, SHARD_ROLE, StackSettings
from infra.operations.reshard import (
    DEFAULT_ORGANIZATION,
    MIN_PULUMI_VERSION,
    Layout,
    ReshardPlan,
    bare,
    fully_qualified,
    parse_pulumi_version,
    plan_reshard,
)

MIN_VERSION_TEXT = ".".join(map(str, MIN_PULUMI_VERSION[:2]))
# Each `pulumi state move` rewrites both stacks' whole state on a file backend, so fewer, larger batches
# are faster: 5,000 hostnames into 3 shards took 149 s in batches of 100 and 48 s in batches of 500
# (benchmarks/state_move.py, Pulumi 3.274.1). A failed batch is resumed with --from-batch.
BATCH = 500
BACKEND_NOTE = (f"Needs the Pulumi CLI {MIN_VERSION_TEXT} or later (`pulumi state move`), logged in to the one "
                "backend that holds both stacks of every move (state move cannot cross backends), run from the "
                "project folder (a new destination stack gets its secrets manager there).")
MOVE_NOTE = ("`pulumi state move` copies the Cloudflare provider into the destination and refuses one that is "
             "already there with other inputs (keep one provider version in all stacks). A custom hostname "
             "depends on no other resource, so the move breaks no dependency.")
PAUSE_NOTE = ("Between the first move and the stack file changes, run no `pulumi up` on these stacks (pause the "
              "deploy workflows): a stack deployed with its old settings would delete hostnames it now holds "
              "but does not declare, or try to create again ones that moved away.")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "reshard", help="move custom hostnames between stacks for a new shard count (pulumi state move)",
        description="Plan, or run with --execute, the `pulumi state move` commands that move each custom hostname "
                    "to the shard stack that owns it at the new count (--to N), in batches, then list the stack "
                    "file changes and the stacks to `pulumi up`, core first. Hostnames are moved in Pulumi's "
                    "state, never deleted or created in Cloudflare. Where hostnames live now comes from the stack "
                    "files: --from-all STACK for the first move from one stack of role all (that stack becomes "
                    "the core), otherwise the stack files of role shard (all with the same "
                    f"{PROJECT}:shards). Run it before changing any stack file. {BACKEND_NOTE} "
                    f"Exit codes: {status_codes.OK} planned (or moved); {status_codes.PROBLEMS} the customers file "
                    f"is invalid; {status_codes.CANNOT_RUN} cannot run (usage, stack files that do not describe "
                    "one layout, no Pulumi CLI or one too old, or a `pulumi state move` failed: the moves before "
                    "it are done, see --from-batch).")
    parser.add_argument("--to", type=int, required=True, metavar="N", help="the new number of shard stacks")
    parser.add_argument("--from-all", metavar="STACK",
                        help="the first move: STACK (role all) keeps the zone-wide resources and becomes the core; "
                             "its custom hostnames move to the N shard stacks")
    names = parser.add_mutually_exclusive_group()
    names.add_argument("--stack-prefix", metavar="PREFIX",
                       help="the shard stacks are PREFIX0 .. PREFIX<N-1> (default: the current shards' common "
                            "prefix); without --from-all, only stack files starting with PREFIX are read")
    names.add_argument("--shard-stacks", nargs="+", metavar="STACK",
                       help="the N shard stacks by index, named one by one")
    parser.add_argument("--org", default=None, metavar="ORG",
                        help="the stacks' organization in fully qualified names (default: the one in "
                             f"{PROJECT}:coreStack, else {DEFAULT_ORGANIZATION!r}, what a self-managed backend uses)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the moves and commands (the default)")
    mode.add_argument("--execute", action="store_true", help="run the `pulumi state move` commands")
    parser.add_argument("--batch", type=int, default=BATCH, metavar="SIZE",
                        help=f"hostnames per `pulumi state move` (default: {BATCH}; docs/scale.md measures it)")
    parser.add_argument("--from-batch", type=int, default=1, metavar="K",
                        help="with --execute: start at batch K (1-based), to resume after a failed batch")
    parser.add_argument("--pulumi", default="pulumi", metavar="PATH", help="the Pulumi CLI (default: pulumi)")
    add_project_dir_argument(parser)
    add_format_arguments(parser, formats=(TEXT, JSON))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.to < 1:
        raise UsageError(f"--to must be at least 1, got {args.to}")
    if args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    if args.shard_stacks and len(args.shard_stacks) != args.to:
        raise UsageError(f"--shard-stacks names {plural(len(args.shard_stacks), 'stack')} for --to {args.to}")
    project_dir = find_project_dir(args.project_dir)
    current, core, settings, organization = _current_layout(project_dir, args)
    target = Layout.shards(_target_names(args, current))
    if core in target.stacks:
        raise SetupError(f"the core stack {core} cannot also be a shard stack")
    customers = load_customers(settings.customers_path(project_dir), settings.validation_rules())
    hostnames = [h.hostname for h in customers.hostnames]
    plan = plan_reshard(hostnames, current, target, core=core)
    batches = plan.batches(args.batch)
    report = _report(project_dir, plan, hostnames, batches, settings, organization, args)
    if args.format == JSON:
        print_json(report)
    else:
        print_text(report)
    if args.execute and batches:
        _execute(report, args)
    return status_codes.OK


# -- reading the layout from the stack files -----------------------------------------------------------------


def _stack_files(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def _current_layout(project_dir: Path, args: argparse.Namespace) -> tuple[Layout, str, StackSettings, str]:
    """The current layout, the core stack, the settings that name the customers file, the organization."""
    if args.from_all:
        settings = stack_settings(project_dir, args.from_all)
        if settings.role != ALL_ROLE:
            raise SetupError(f"--from-all {args.from_all}: its {PROJECT}:role is {settings.role}, not {ALL_ROLE}; "
                             "the first move starts from the one stack that declares every hostname")
        return Layout.single(args.from_all), args.from_all, settings, args.org or DEFAULT_ORGANIZATION

    shards: dict[str, StackSettings] = {}
    for stack in _stack_files(project_dir):
        if args.stack_prefix and not stack.startswith(args.stack_prefix):
            continue
        if args.shard_stacks and stack not in args.shard_stacks:
            continue
        settings = stack_settings(project_dir, stack)
        if settings.role == SHARD_ROLE:
            shards[stack] = settings
    if not shards:
        raise SetupError("no stack file of role shard here (use --from-all STACK for the first move from a stack "
                         "of role all)")
    counts = {s.shards for s in shards.values()}
    cores = {s.core_stack for s in shards.values()}
    files = {s.customers_file for s in shards.values()}
    listing = ", ".join(f"{name} (shard {s.shard} of {s.shards})" for name, s in shards.items())
    if len(counts) > 1 or len(cores) > 1 or len(files) > 1:
        raise SetupError(f"the shard stack files do not describe one layout (one {PROJECT}:shards, coreStack and "
                         f"customersFile): {listing}. Run reshard before changing the stack files, or name the "
                         "shards with --stack-prefix or --shard-stacks")
    count = counts.pop()
    by_index: dict[int, list[str]] = {}
    for name, s in shards.items():
        by_index.setdefault(s.shard, []).append(name)
    if sorted(by_index) != list(range(count)) or any(len(v) > 1 for v in by_index.values()):
        raise SetupError(f"{count} shards need one stack file for each index 0 to {count - 1}; found {listing}")
    core_stack = cores.pop() or ""
    organization = args.org or (core_stack.split("/")[0] if core_stack.count("/") == 2 else DEFAULT_ORGANIZATION)
    first = next(iter(shards.values()))
    return (Layout.shards([by_index[i][0] for i in range(count)]), bare(core_stack), first, organization)


def _raw_settings(project_dir: Path, stack: str) -> dict[str, str]:
    """The stack's sharding settings as it has them now, as strings (to list only what must change)."""
    settings = stack_settings(project_dir, stack)
    return {"role": settings.role, "coreStack": settings.core_stack or "", "shard": str(settings.shard),
            "shards": str(settings.shards)}


def _target_names(args: argparse.Namespace, current: Layout) -> list[str]:
    if args.shard_stacks:
        return list(args.shard_stacks)
    prefix = args.stack_prefix
    if prefix is None and current.sharded:
        found = {re.sub(r"\d+$", "", s) for s in current.stacks}
        if len(found) == 1 and all(s == f"{p}{i}" for p in found for i, s in enumerate(current.stacks)):
            prefix = found.pop()
    if prefix is None:
        raise UsageError("name the shard stacks: --stack-prefix PREFIX (PREFIX0 .. PREFIX<N-1>) or --shard-stacks")
    return [f"{prefix}{i}" for i in range(args.to)]


# -- the report -----------------------------------------------------------------------------------------------


def _report(project_dir: Path, plan: ReshardPlan, hostnames: list[str], batches: list, settings: StackSettings,
            organization: str, args: argparse.Namespace) -> dict[str, Any]:
    existing = set(_stack_files(project_dir))
    core = plan.core
    new_stacks = [s for s in plan.target.stacks if s not in existing]
    config: list[str] = []
    if not plan.current.sharded and core:
        config.append(f"pulumi config set --stack {core} {PROJECT}:role {CORE_ROLE}")
    for index, stack in enumerate(plan.target.stacks):
        values = {"role": SHARD_ROLE, "coreStack": fully_qualified(core, organization) if core else None,
                  "shard": str(index), "shards": str(plan.target.count)}
        now = _raw_settings(project_dir, stack) if stack in existing else {}
        config += [f"pulumi config set --stack {stack} {PROJECT}:{key} {shlex.quote(value)}"
                   for key, value in values.items() if value is not None and now.get(key) != value]
    retired = [s for s in plan.current.stacks if plan.current.sharded and s not in plan.target.stacks]
    confirmations = []
    for stack, count in plan.moved_out().items():
        max_removals = (stack_settings(project_dir, stack).max_removals if stack in existing
                        else settings.max_removals)
        confirmations.append({"stack": stack, "moved_out": count, "max_removals": max_removals,
                              "needs_confirmation": count > max_removals and stack not in retired})
    return {
        "zone": settings.zone,
        "from": {"layout": plan.current.describe(), "stacks": list(plan.current.stacks),
                 "sharded": plan.current.sharded},
        "to": {"shards": plan.target.count, "stacks": list(plan.target.stacks)},
        "core": core,
        "organization": organization,
        "execute": bool(args.execute),
        "hostnames": plan.total,
        "moves": len(plan.moves),
        "stay": plan.total - len(plan.moves),
        "moved_fraction": round(plan.moved_fraction, 4),
        "per_move": [{"source": s, "dest": d, "hostnames": n} for (s, d), n in plan.counts().items()],
        "per_shard_after": plan.per_target_stack(hostnames),
        "batches": [{"number": i, "source": b.source, "dest": b.dest, "hostnames": list(b.hostnames),
                     "argv": b.argv(organization, args.pulumi)} for i, b in enumerate(batches, 1)],
        "new_stacks": [fully_qualified(s, organization) for s in new_stacks],
        "config": config,
        "up_order": plan.up_order(),
        "removal_confirmations": confirmations,
        "retired_stacks": retired,
        "notes": [BACKEND_NOTE, MOVE_NOTE, PAUSE_NOTE],
    }


def print_text(report: dict[str, Any]) -> None:
    mode = "executing" if report["execute"] else "dry run, nothing moved"
    print(style(f"saas-domains reshard: zone {report['zone']}, from {report['from']['layout']} to "
                f"{report['to']['shards']} shard stacks ({mode})", "bold"))
    print(f"{plural(report['hostnames'], 'hostname')}: {report['moves']:,} "
          f"{'moves' if report['moves'] == 1 else 'move'} ({report['moved_fraction']:.1%}), {report['stay']:,} "
          f"{'stays where it is' if report['stay'] == 1 else 'stay where they are'}.")
    if report["per_move"]:
        print(table(("FROM", "TO", "HOSTNAMES"), [(m["source"], m["dest"], m["hostnames"])
                                                  for m in report["per_move"]], indent="  "))
    print(table(("SHARD STACK", "HOSTNAMES AFTER"), sorted(report["per_shard_after"].items()), indent="  "))
    if not report["batches"]:
        print("Nothing to move.")
        return
    print()
    batches = plural(len(report["batches"]), "`pulumi state move` batch", "`pulumi state move` batches")
    print(style(f"1. Move ({batches}). {BACKEND_NOTE}", "bold"))
    if report["new_stacks"]:
        print("   First create the new stacks (state move needs the destination to exist; --execute does it):")
        for stack in report["new_stacks"]:
            print(f"     pulumi stack init {stack}")
    print(f"   {MOVE_NOTE}")
    if not report["execute"]:
        for batch in report["batches"]:
            print(f"   # batch {batch['number']}: {len(batch['hostnames'])} from {batch['source']} to {batch['dest']}")
            print("   " + shlex.join(batch["argv"]))
    print(style("2. Then change the stack files (commit them):", "bold"))
    for line in report["config"]:
        print(f"     {line}")
    print(style(f"   {PAUSE_NOTE}", "yellow"))
    print(style("3. Then `pulumi preview --diff` and `pulumi up`, in this order:", "bold"))
    for number, stack in enumerate(report["up_order"], 1):
        print(f"     {number}. {stack}")
    print("   A destination's preview must show no custom hostname created or deleted: a moved one arrives at the "
          "stack's root (Pulumi 3.224 and later) and its alias makes the `up` rename it into the destination's "
          "`customers` component.")
    needing = [c for c in report["removal_confirmations"] if c["needs_confirmation"]]
    print("   A stack that hostnames left still lists them in its last deployment's outputs, so its removal guard "
          "counts them as removed; `state move` took them out of its state, so its `up` deletes none of them.")
    for c in needing:
        print(style(f"     {c['stack']}: {c['moved_out']} moved out, over maxRemovals {c['max_removals']}: "
                    f"`pulumi config set --stack {c['stack']} {PROJECT}:allowRemovals {c['moved_out']}` for that "
                    "`up`, then set it back to 0", "yellow"))
    if not report["from"]["sharded"] and report["core"]:
        print(f"     {report['core']} (now the core) declares no custom hostname: its `up` deletes only its empty "
              "`customers` component, which is not a Cloudflare resource.")
    for stack in report["retired_stacks"]:
        print(f"     {stack} holds no custom hostname any more: `pulumi stack rm {stack}` once it is empty "
              "(`pulumi stack --show-urns` lists what is left)")


# -- running the moves ----------------------------------------------------------------------------------------


def _execute(report: dict[str, Any], args: argparse.Namespace) -> None:
    _check_pulumi_version(args.pulumi)
    batches = report["batches"]
    if not 1 <= args.from_batch <= len(batches):
        raise UsageError(f"--from-batch must be 1 to {len(batches)}, got {args.from_batch}")
    _create_missing_stacks(report["new_stacks"], args.pulumi)
    for batch in batches[args.from_batch - 1:]:
        print(f"batch {batch['number']}/{len(batches)}: {len(batch['hostnames'])} from {batch['source']} to "
              f"{batch['dest']}", flush=True)
        done = subprocess.run(batch["argv"], check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise CommandError(
                f"`pulumi state move` failed on batch {batch['number']} of {len(batches)} "
                f"(exit {done.returncode}): {(done.stderr or done.stdout).strip()}\n"
                f"Batches 1 to {batch['number'] - 1} are moved. Fix the cause, then resume with the same "
                f"arguments and --execute --from-batch {batch['number']} (change no stack file before).")
    print(style("All moves done. Now change the stack files and `up` the stacks as listed above.", "green"))


def _create_missing_stacks(stacks: list[str], pulumi: str) -> None:
    """`pulumi state move` loads its destination and never creates it (RequireStack with LoadOnly in
    pkg/cmd/pulumi/state/state_move.go): the new shard stacks are made first, with the project's
    secrets manager, and the stack the user has selected stays selected (`--no-select`)."""
    if not stacks:
        return
    listed = subprocess.run([pulumi, "stack", "ls", "--all", "--json"], check=False, capture_output=True, text=True)
    if listed.returncode != 0:
        raise CommandError(f"`pulumi stack ls` failed (exit {listed.returncode}): "
                           f"{(listed.stderr or listed.stdout).strip()}")
    try:
        existing = {bare(entry["name"]) for entry in json.loads(listed.stdout or "[]")}
    except (ValueError, TypeError, KeyError) as err:
        raise CommandError(f"`pulumi stack ls --json` printed something that is not a stack list: {err}") from None
    for stack in stacks:
        if bare(stack) in existing:
            continue
        print(f"creating stack {stack}", flush=True)
        made = subprocess.run([pulumi, "stack", "init", "--no-select", stack], check=False, capture_output=True,
                              text=True)
        if made.returncode != 0:
            raise CommandError(f"`pulumi stack init {stack}` failed (exit {made.returncode}): "
                               f"{(made.stderr or made.stdout).strip()}\nNothing is moved yet.")


def _check_pulumi_version(pulumi: str) -> None:
    try:
        done = subprocess.run([pulumi, "version"], check=False, capture_output=True, text=True)
    except OSError as err:
        raise CommandError(f"cannot run the Pulumi CLI {pulumi!r}: {err}") from None
    version = parse_pulumi_version(done.stdout) if done.returncode == 0 else None
    if version is None or version < MIN_PULUMI_VERSION:
        found = done.stdout.strip() or done.stderr.strip() or "unknown"
        raise CommandError(f"reshard --execute needs the Pulumi CLI {MIN_VERSION_TEXT} or later "
                           f"(`pulumi state move`); {pulumi} version says {found!r}")
