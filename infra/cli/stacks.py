"""`saas-domains stacks STACK`: the zone's stacks as CI runs them, from the repository's stack files.

For a single stack (role all) that stack; for a core, its shard stacks as a job matrix with each
shard's `--parallel` and the matrix's `max-parallel`, so that all shards together stay within
Cloudflare's rate. For a pull request, `--touched-from` (the change's `diff --format json`) keeps only
the shards whose hostnames the change touches, and `--changed-files` (the changed paths, one a line)
decides the rest: a change to any other file than the customers file changes the program or a
stack's settings, so the core and every shard are previewed (`preview_core`). Prints one JSON object
(the workflows read it with jq), or with --format text the same for people.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

from infra.cli import status_codes
from infra.cli.errors import SetupError, UsageError
from infra.cli.project import (
    add_project_arguments,
    chosen_stack_settings,
    find_project_dir,
    stack_choice,
    stack_settings,
)
from infra.cli.terminal import JSON, TEXT, add_format_arguments, plural, print_json, table
from infra.model.settings import ALL_ROLE, CORE_ROLE, SHARD_ROLE


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "stacks", help="the zone's stacks as CI deploys and previews them (JSON)",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ")
        + f" Exit codes: {status_codes.OK} printed; {status_codes.CANNOT_RUN} cannot run (usage, no such stack "
          "file, or the stack files do not describe one layout).")
    parser.add_argument("stack_argument", nargs="?", metavar="STACK",
                        help="the same as --stack (the workflows pass PULUMI_STACK so): the single stack or the core")
    add_project_arguments(parser)
    parser.add_argument("--touched-from", type=Path, default=None, metavar="DIFF.json",
                        help="the change's `diff --format json`: only the shards it touches")
    parser.add_argument("--changed-files", type=Path, default=None, metavar="FILE",
                        help="the changed paths, one a line: any other than the customers file previews everything")
    add_format_arguments(parser, formats=(JSON, TEXT), default=JSON,
                         purposes="json for the workflows (jq), text for people")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class ShardLayout:
    """A zone's stacks as the repository declares them: the core and its shards, from the Pulumi.<stack>.yaml files."""

    core: str | None  # the core's stack name, when the repository has its file
    shards: int  # saas-domains:shards, the same in every shard's file
    stacks: dict[int, str]  # shard index -> stack name


def _short_name(stack: str) -> str:
    """`organization/project/stack` (or `stack` alone) to the name of the repository's Pulumi.<stack>.yaml."""
    return stack.rsplit("/", 1)[-1]


def shard_layout(project_dir: Path, stack: str) -> ShardLayout | None:
    """The core and shard stacks `stack` belongs to; None for a single stack (role all).

    Every Pulumi.<stack>.yaml whose role is shard and whose coreStack names the same core is one of them.
    Their shard counts must agree and their indices must be distinct: what CI previews and deploys is
    exactly what the stack files say, and a half-edited reshard is refused here rather than deployed.
    """
    settings = stack_settings(project_dir, stack)
    if settings.role == ALL_ROLE:
        return None
    core = stack if settings.role == CORE_ROLE else _short_name(settings.core_stack or "")
    members: dict[int, str] = {}
    counts: dict[str, int] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi."):-len(".yaml")]
        other = stack_settings(project_dir, name)
        if other.role != SHARD_ROLE or _short_name(other.core_stack or "") != core:
            continue
        if other.shard in members:
            raise SetupError(f"stacks {members[other.shard]} and {name} are both shard {other.shard} of {core}")
        members[other.shard] = name
        counts[name] = other.shards
    if len(set(counts.values())) > 1:
        raise SetupError(f"the shards of {core} disagree on saas-domains:shards: "
                         + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    shards = next(iter(counts.values()), settings.shards)
    core_exists = (project_dir / f"Pulumi.{core}.yaml").is_file()
    return ShardLayout(core=core if core_exists else None, shards=shards, stacks=members)


# Cloudflare allows 1,200 API requests per 5 minutes per token: 4 a second. Each Pulumi operation in flight
# makes about one request a second (a create is a POST, then reads while the certificate is pending), so
# the operations in flight across all stacks deploying at once must stay at 4 or below.
REQUESTS_PER_SECOND = 1200 // 300


def deploy_plan(project_dir: Path, stack: str) -> dict:
    """What the deploy and preview workflows run for `stack` (the repository's PULUMI_STACK): its role, and
    for a core, its shard stacks as a job matrix with each shard's `--parallel` and the matrix's
    `max-parallel`, so that parallel × max-parallel ≤ 4 operations in flight (1,200 requests / 300 s)."""
    settings = stack_settings(project_dir, stack)
    layout = shard_layout(project_dir, stack) if settings.role == CORE_ROLE else None
    if layout is None:
        return {"role": settings.role, "core": stack, "parallel": REQUESTS_PER_SECOND, "shards": [],
                "shard_count": 0, "max_parallel": 1, "shard_parallel": 0}
    if sorted(layout.stacks) != list(range(layout.shards)):
        missing = sorted(set(range(layout.shards)) - set(layout.stacks))
        raise SetupError(f"{stack} has {plural(layout.shards, 'shard')} but no stack file for "
                         f"{'shard' if len(missing) == 1 else 'shards'} " + ", ".join(map(str, missing)))
    parallel = max(1, REQUESTS_PER_SECOND // layout.shards)
    max_parallel = max(1, min(layout.shards, REQUESTS_PER_SECOND // parallel))
    return {"role": settings.role, "core": stack, "parallel": REQUESTS_PER_SECOND,
            "shards": [{"shard": i, "stack": layout.stacks[i]} for i in range(layout.shards)],
            "shard_count": layout.shards, "shard_parallel": parallel, "max_parallel": max_parallel}


def run(args: argparse.Namespace) -> int:
    if args.stack_argument:
        if args.stack and args.stack != args.stack_argument:
            raise UsageError(f"STACK {args.stack_argument} and --stack {args.stack} name two stacks; give one")
        args.stack = args.stack_argument
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    customers = Path(os.path.relpath(chosen_stack_settings(project_dir, choice).customers_path(project_dir),
                                     project_dir)).as_posix()
    plan = deploy_plan(project_dir, choice.name)
    everything = True
    if args.changed_files is not None:
        changed = {line.strip() for line in args.changed_files.read_text().splitlines() if line.strip()}
        everything = bool(changed - {customers})
    if args.touched_from is not None and not everything:
        touched = set(json.loads(args.touched_from.read_text()).get("shards", {}).get("touched", []))
        plan["shards"] = [s for s in plan["shards"] if s["shard"] in touched]
    plan["preview_core"] = everything or plan["role"] != CORE_ROLE
    if args.format == JSON:
        print_json({**plan, **choice.to_json()})
    else:
        print_text(plan, choice.describe())
    return status_codes.OK


def print_text(plan: dict, stack: str) -> None:
    print(f"saas-domains stacks: {stack}, role {plan['role']}")
    if plan["role"] != CORE_ROLE:
        print(f"  deployed alone, {plural(plan['parallel'], 'operation')} in parallel")
        return
    previewed = "previewed" if plan["preview_core"] else "not previewed (only the customers file changed)"
    print(f"  the core {plan['core']}: {previewed}, {plural(plan['parallel'], 'operation')} in parallel")
    print(f"  {plural(plan['shard_count'], 'shard stack')}, at most {plan['max_parallel']:,} at once, "
          f"{plural(plan['shard_parallel'], 'operation')} in parallel each:")
    print(table(("SHARD", "STACK"), [(s["shard"], s["stack"]) for s in plan["shards"]], indent="    ",
                empty="none touched by the change"))
