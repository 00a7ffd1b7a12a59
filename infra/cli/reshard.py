"""`saas-domains reshard`: move custom hostnames between stacks when the shard count changes, without
replacing or deleting a single one.

It reads the stack files (where each hostname lives now: one `all` stack, or shard i of the current
N) and the one customers file, then prints, or with --execute runs, the `pulumi state move` commands
in batches, and says what to change in the stack files and which stacks to `up`, in which order.
The plan and the moves are infra/operations/reshard.py's; this module parses and prints.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from infra.cli import status_codes
from infra.cli.errors import UsageError
from infra.cli.project import add_project_dir_argument, find_project_dir
from infra.cli.terminal import JSON, TEXT, add_format_arguments, plural, print_json, style, table
from infra.clients.pulumi_cli import PulumiCli
from infra.model.names import PROJECT
from infra.operations.reshard import (
    BACKEND_NOTE,
    BATCH,
    MOVE_NOTE,
    PAUSE_NOTE,
    ReshardRequest,
    execute_moves,
    reshard,
)
from infra.operations.reshard_plan import DEFAULT_ORGANIZATION


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
    parser.add_argument("--execute", action="store_true",
                        help="run the `pulumi state move` commands (without it: print them, move nothing)")
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
    request = ReshardRequest(to=args.to, from_all=args.from_all, stack_prefix=args.stack_prefix,
                             shard_stacks=tuple(args.shard_stacks) if args.shard_stacks else None,
                             organization=args.org, batch=args.batch, execute=args.execute, pulumi=args.pulumi)
    report = reshard(find_project_dir(args.project_dir), request)
    if args.format == JSON:
        print_json(report)
    else:
        print_text(report)
    if args.execute and report["batches"]:
        execute_moves(report, PulumiCli(args.pulumi), args.from_batch, on_progress=lambda line: print(line, flush=True))
        print(style("All moves done. Now change the stack files and `up` the stacks as listed above.", "green"))
    return status_codes.OK


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
