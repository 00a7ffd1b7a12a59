"""`saas-domains stacks STACK`: the zone's stacks as CI runs them, from the repository's stack files.

The plan is infra/operations/stacks.py. For a pull request, `--touched-from` (the change's `diff
--format json`) keeps only the shards whose hostnames the change touches, and `--changed-files` (the
changed paths, one a line) decides whether everything is previewed. Prints one JSON object (the
workflows read it with jq), or with --format text the same for people.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from infra.cli import status_codes
from infra.cli.errors import UsageError
from infra.cli.project import add_project_arguments, chosen_stack_settings, find_project_dir, stack_choice
from infra.cli.terminal import JSON, TEXT, add_format_arguments, plural, print_json, table
from infra.model.settings import CORE_ROLE
from infra.operations import stacks as operation


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "stacks", help="the zone's stacks as CI deploys and previews them (JSON)",
        description=" ".join(doc.split("\n\n", 1)[1].replace("\n", " ") for doc in (operation.__doc__, __doc__))
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


def run(args: argparse.Namespace) -> int:
    if args.stack_argument:
        if args.stack and args.stack != args.stack_argument:
            raise UsageError(f"STACK {args.stack_argument} and --stack {args.stack} name two stacks; give one")
        args.stack = args.stack_argument
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    customers = Path(os.path.relpath(chosen_stack_settings(project_dir, choice).customers_path(project_dir),
                                     project_dir)).as_posix()
    changed = touched = None
    if args.changed_files is not None:
        changed = [line.strip() for line in args.changed_files.read_text().splitlines() if line.strip()]
    if args.touched_from is not None:
        touched = json.loads(args.touched_from.read_text()).get("shards", {}).get("touched", [])
    plan = operation.stacks_to_run(project_dir, choice.name, customers, changed_files=changed, touched_shards=touched)
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
