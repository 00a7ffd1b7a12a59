"""`saas-domains diff --base REF [--head REF]`: what a customers-file change does, for review and CI.

Both sides are validated with the stack's rules; the comparison is by hostname, the key the Pulumi
resources use, so it shows exactly which custom hostnames would be created, deleted or updated, and
which only move between customers (no cloud change). The removal guard stops a change that deletes
more hostnames than the stack allows without confirmation. For a core or shard stack the report adds each
shard's counts (by `infra.model.sharding.shard_of`, as the program declares) and the zone-wide quota;
`main` gives CI the stacks to preview and deploy.
"""

from __future__ import annotations

import argparse
import sys

from infra.cli import status_codes
from infra.cli.markdown import diff_markdown
from infra.cli.project import add_project_arguments, chosen_stack_settings, find_project_dir, stack_choice
from infra.cli.terminal import JSON, MARKDOWN, add_format_arguments, print_json, style, table
from infra.model.removal_guard import RemovalGuard
from infra.model.settings import StackSettings
from infra.operations.diff import DiffReport, Pricing, diff_change


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "diff", help="what a change to the customers file does, hostname by hostname",
        description="Compare the customers file at two git revisions (head: the working tree unless given). "
                    f"Exit {status_codes.OK} when fine, {status_codes.PROBLEMS} when either side is invalid, "
                    f"{status_codes.CANNOT_RUN} when a revision or the stack cannot be read, "
                    f"{status_codes.REMOVAL_GUARD} when the change "
                    "removes more hostnames than allowed without confirmation.")
    parser.add_argument("--base", required=True, help="git revision before the change, e.g. origin/main")
    parser.add_argument("--head", default=None, help="git revision after the change (default: the working tree)")
    add_project_arguments(parser)
    add_format_arguments(parser, purposes="text for a terminal, markdown for a pull-request comment, json for "
                                          "machines")
    add_removal_guard_arguments(parser)
    parser.add_argument("--included-hostnames", type=int, default=Pricing.included_hostnames,
                        help="hostnames included in the plan (default: %(default)s)")
    parser.add_argument("--price-per-hostname", type=float, default=Pricing.monthly_price_per_hostname,
                        help="USD per hostname per month beyond the included ones (default: %(default)s)")
    parser.set_defaults(run=run)


def add_removal_guard_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-removals", type=int, default=None, metavar="N",
                        help="removals allowed without confirmation (default: saas-domains:maxRemovals, 5)")
    parser.add_argument("--allow-removals", type=int, default=None, metavar="N",
                        help="confirm removing up to N hostnames (default: saas-domains:allowRemovals)")


def removal_guard(settings: StackSettings, args: argparse.Namespace) -> RemovalGuard:
    """The stack's guard, with the command line's --max-removals and --allow-removals over its settings."""
    return RemovalGuard(
        max_removals=settings.max_removals if args.max_removals is None else args.max_removals,
        allow_removals=settings.allow_removals if args.allow_removals is None else args.allow_removals)


def run(args: argparse.Namespace) -> int:
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    settings = chosen_stack_settings(project_dir, choice)
    pricing = Pricing(included_hostnames=args.included_hostnames,
                      monthly_price_per_hostname=args.price_per_hostname)
    report = diff_change(project_dir, choice.name, settings, base=args.base, head=args.head,
                         guard=removal_guard(settings, args), pricing=pricing)
    if args.format == JSON:
        print_json({**report.to_json(), **choice.to_json()})
    elif args.format == MARKDOWN:
        print(diff_markdown(report, choice.describe()))
    else:
        print(diff_text(report, choice.describe()))
    if report.refusal:
        print(style(report.refusal, "red", sys.stderr), file=sys.stderr)
        return status_codes.REMOVAL_GUARD
    return status_codes.OK


def diff_text(report: DiffReport, stack: str) -> str:
    lines = [style(f"{report.path}: {report.base} → {report.head}", "bold"), report.summary(), report.totals()]
    lines.append(f"with the settings of {stack}")
    if report.customers_line():
        lines.append(report.customers_line())
    lines += report.notes
    lines += [style(f"warning: {note}", "yellow") for note in report.diff.provider_notes]
    rows = report.rows()
    if rows:
        colours = {"removed": "red", "added": "green", "changed": "yellow"}
        lines += ["", table(("CHANGE", "HOSTNAME", "CUSTOMER", "DETAILS"),
                            [(style(r[0], colours.get(r[0], "cyan")), *r[1:]) for r in rows])]
    else:
        lines.append("No hostname changes.")
    if report.shards is not None:
        lines += ["", report.shard_summary(),
                  table(("SHARD", "STACK", "ADDED", "REMOVED", "CHANGED", "HOSTNAMES AFTER"), report.shard_rows())]
    return "\n".join(lines)
