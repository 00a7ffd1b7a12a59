"""`saas-domains validate [FILE]`: the customers file's checks, fast and without Pulumi, then the removal guard.

The guard compares the file with the same file at the base revision, as the pull request's `diff` and
the deploy do: `--base REF`, else the base the pull-request workflow uses (origin/<GITHUB_BASE_REF>, or
origin/main) when this repository has it. A valid file that deletes more hostnames than the stack allows
without confirmation exits 3, as `diff` does, so the README's steps stop where CI would.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.cli import status_codes
from infra.cli.diff import add_removal_guard_arguments, removal_guard
from infra.cli.markdown import validate_markdown
from infra.cli.project import StackChoice, add_project_arguments, chosen_stack_settings, find_project_dir, stack_choice
from infra.cli.terminal import JSON, MARKDOWN, add_format_arguments, plural, print_json, style
from infra.operations.validate import ValidationReport, validate_file


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "validate", help="check a customers file against every rule the program applies, and the removal guard",
        description="Check a customers file with the rules of the stack (zone, wildcards, hostname cap), then run "
                    "the removal guard against the file at the base revision (--base; by default the base the "
                    "pull-request workflow compares with, origin/<GITHUB_BASE_REF> or origin/main, when this "
                    f"repository has it). Exit {status_codes.OK} when valid, {status_codes.PROBLEMS} when it has "
                    f"problems, {status_codes.CANNOT_RUN} when the stack or a given --base cannot be read, "
                    f"{status_codes.REMOVAL_GUARD} when the change removes more hostnames than allowed without "
                    "confirmation.")
    parser.add_argument("file", nargs="?", type=Path,
                        help="customers file (default: the stack's saas-domains:customersFile)")
    add_project_arguments(parser)
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base", metavar="REF", default=None,
                      help="git revision to run the removal guard against (default: origin/<GITHUB_BASE_REF>, "
                           "else origin/main, when it exists)")
    base.add_argument("--no-base", action="store_true", help="validate only; do not run the removal guard")
    add_removal_guard_arguments(parser)
    add_format_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    settings = chosen_stack_settings(project_dir, choice)
    path = args.file if args.file is not None else Path(os.path.relpath(settings.customers_path(project_dir)))
    report = validate_file(project_dir, choice.name, settings, path, removal_guard(settings, args), base=args.base,
                           run_guard=not args.no_base)
    if args.format == JSON:
        print_json({**report.to_json(), **choice.to_json()})
    elif args.format == MARKDOWN:
        print(validate_markdown(report, choice.describe()))
    else:
        print_text(report, choice)
    if not report.valid:
        return status_codes.PROBLEMS
    if report.guard.refusal:
        print(style(report.guard.refusal, "red", sys.stderr), file=sys.stderr)
        return status_codes.REMOVAL_GUARD
    return status_codes.OK


def print_text(report: ValidationReport, choice: StackChoice) -> None:
    """A valid file on stdout; problems on stderr, as a compiler prints them."""
    if not report.valid:
        print(style(f"{report.file}: {plural(len(report.problems), 'problem')}, with the rules of "
                    f"{choice.describe()}", "red", sys.stderr), file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return
    customers, settings = report.customers, report.settings
    print(f"{style('valid', 'green')}: {report.file}: {plural(len(customers.customers), 'customer')}, "
          f"{plural(len(customers.hostnames), 'hostname')} (cap {settings.max_hostnames:,}, zone "
          f"{settings.zone}); {choice.describe()}")
    if not report.guard.refusal:
        print(f"removal guard: {report.guard.summary()}")
