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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.cli import status_codes
from infra.cli.diff import CONFIRM_REMOVALS, GUARD_PREFIX, add_removal_guard_arguments, removal_guard
from infra.cli.git_revisions import ci_base, ci_base_branch, read_at_revision
from infra.cli.project import StackChoice, add_project_arguments, chosen_stack_settings, find_project_dir, stack_choice
from infra.cli.terminal import JSON, MARKDOWN, add_format_arguments, plural, print_json, style
from infra.model.customers import CustomersFile, CustomersFileError, load_customers, parse_customers
from infra.model.examples import refuse_examples
from infra.model.removal_guard import RemovalGuard
from infra.model.settings import StackSettings
from infra.operations.diff import Pricing, review_change


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


@dataclass(frozen=True)
class GuardCheck:
    """The removal guard's verdict on the change since `base`, or why it was not run (`note`)."""

    guard: RemovalGuard
    base: str | None = None
    removed: int | None = None  # None: not compared
    refusal: str | None = None
    note: str | None = None

    def summary(self) -> str:
        if self.removed is None:
            return f"not run: {self.note}"
        allowed = max(self.guard.max_removals, self.guard.allow_removals)
        verdict = "stopped" if self.refusal else "passes"
        return (f"{verdict}: {plural(self.removed, 'hostname')} removed since {self.base} "
                f"(up to {allowed:,} without confirmation)")

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, "compared": self.removed is not None, "removed": self.removed,
                "max_removals": self.guard.max_removals, "allow_removals": self.guard.allow_removals,
                "refused": self.refusal is not None, "message": self.refusal, "note": self.note}


def run(args: argparse.Namespace) -> int:
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    settings = chosen_stack_settings(project_dir, choice)
    stack_file = settings.customers_path(project_dir)
    path = args.file if args.file is not None else Path(os.path.relpath(stack_file))
    shown = str(path)

    try:
        customers = load_customers(path, settings.validation_rules())
        refuse_examples(customers, choice.name)  # what the program refuses, said before the pull request
    except CustomersFileError as err:  # the problems are validate's result, not an error: a report
        print_problems(shown, choice, err, args.format)
        return status_codes.PROBLEMS

    check = guard_check(args, settings, project_dir, path, stack_file, customers)
    report = {"valid": True, "file": shown, **choice.to_json(), "customers": len(customers.customers),
              "hostnames": len(customers.hostnames), "maxHostnames": settings.max_hostnames, "problems": [],
              "removal_guard": check.to_json()}
    if args.format == JSON:
        print_json(report)
    elif args.format == MARKDOWN:
        print(markdown_valid(report, settings, choice, check))
    else:
        print(f"{style('valid', 'green')}: {shown}: {plural(len(customers.customers), 'customer')}, "
              f"{plural(len(customers.hostnames), 'hostname')} (cap {settings.max_hostnames:,}, zone "
              f"{settings.zone}); {choice.describe()}")
        if not check.refusal:
            print(f"removal guard: {check.summary()}")
    if check.refusal:
        print(style(check.refusal, "red", sys.stderr), file=sys.stderr)
        return status_codes.REMOVAL_GUARD
    return status_codes.OK


def guard_check(args: argparse.Namespace, settings: StackSettings, project_dir: Path, path: Path, stack_file: Path,
                customers: CustomersFile) -> GuardCheck:
    """The change since the base revision of the stack's customers file, through the guard `diff` runs."""
    guard = removal_guard(settings, args)
    if args.no_base:
        return GuardCheck(guard, note="--no-base")
    if args.base is None and path.resolve() != stack_file.resolve():
        return GuardCheck(guard, note=f"{path} is not the stack's customers file ({os.path.relpath(stack_file)}); "
                                      "pass --base REF to compare it with that file at REF")
    base = args.base or ci_base(project_dir)
    if base is None:
        branch = ci_base_branch()
        return GuardCheck(guard, note=f"no origin/{branch} here to compare with (`git fetch origin {branch}`, or "
                                      "pass --base REF); the pull request's diff and the deploy run it")
    relative = Path(os.path.relpath(stack_file, project_dir))
    before = read_at_revision(base, relative, project_dir)  # a --base that does not exist: exit 2
    if before is None:
        return GuardCheck(guard, base, removed=0, note=f"{relative} does not exist at {base}: nothing removed")
    try:
        previous = parse_customers(before, settings.validation_rules(), path=f"{base}:{relative}")
    except CustomersFileError:
        return GuardCheck(guard, base, note=f"{relative} at {base} does not pass validation, so nothing can be "
                                            "compared with it (the deploy compares with the last deployment)")
    review = review_change(previous, customers, max_hostnames=settings.max_hostnames, pricing=Pricing(),
                           guard=guard, how_to_confirm=CONFIRM_REMOVALS)
    return GuardCheck(guard, base, removed=len(review.diff.removed), refusal=review.refusal)


def print_problems(shown: str, choice: StackChoice, err: CustomersFileError, output: str) -> None:
    count = plural(len(err.problems), "problem")
    if output == JSON:
        print_json({"valid": False, "file": shown, **choice.to_json(), "problems": [
            {"line": p.line, "entry": p.entry, "message": p.message} for p in err.problems]})
    elif output == MARKDOWN:
        print("\n".join([f"### saas-domains validate: `{shown}`", "", f"**{count}** with the rules of "
                         f"{choice.describe()}:", "", *(f"- {p}" for p in err.problems)]))
    else:
        print(style(f"{shown}: {count}, with the rules of {choice.describe()}", "red", sys.stderr), file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)


def markdown_valid(report: dict[str, Any], settings: StackSettings, choice: StackChoice, check: GuardCheck) -> str:
    lines = [f"### saas-domains validate: `{report['file']}`", "",
             f"**valid**: {plural(report['customers'], 'customer')}, {plural(report['hostnames'], 'hostname')} "
             f"(cap {settings.max_hostnames:,}, zone `{settings.zone}`), with the rules of {choice.describe()}", ""]
    if check.refusal:
        lines.append(f"> **Removal guard:** {check.refusal.removeprefix(GUARD_PREFIX)}")
    else:
        lines.append(f"Removal guard: {check.summary()}")
    return "\n".join(lines)
