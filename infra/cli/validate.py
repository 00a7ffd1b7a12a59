"""`saas-domains validate [FILE]`: the customers file's checks alone, fast and without Pulumi."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.cli import status_codes
from infra.cli.project import add_project_arguments, find_project_dir, stack_settings
from infra.cli.terminal import print_json, style
from infra.model.customers import CustomersFileError, load_customers


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "validate", help="check a customers file against every rule the program applies",
        description="Check a customers file with the rules of the stack (zone, wildcards, hostname cap). "
                    f"Exit {status_codes.OK} when valid, {status_codes.PROBLEMS} when it has problems, "
                    f"{status_codes.CANNOT_RUN} when the stack cannot be read.")
    parser.add_argument("file", nargs="?", type=Path,
                        help="customers file (default: the stack's saas-domains:customersFile)")
    add_project_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable result on stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    project_dir = find_project_dir(args.project_dir)
    settings = stack_settings(project_dir, args.stack)
    path = args.file if args.file is not None else Path(os.path.relpath(settings.customers_path(project_dir)))
    shown = str(path)

    try:
        customers = load_customers(path, settings.validation_rules())
    except CustomersFileError as err:  # the problems are validate's result, not an error: a report
        if args.json:
            print_json({"valid": False, "file": shown, "problems": [
                {"line": p.line, "entry": p.entry, "message": p.message} for p in err.problems]})
        else:
            print(style(f"{shown}: {len(err.problems)} problem(s)", "red", sys.stderr), file=sys.stderr)
            for problem in err.problems:
                print(f"  {problem}", file=sys.stderr)
        return status_codes.PROBLEMS

    count = len(customers.hostnames)
    if args.json:
        print_json({"valid": True, "file": shown, "customers": len(customers.customers),
                    "hostnames": count, "maxHostnames": settings.max_hostnames, "problems": []})
    else:
        print(f"{style('valid', 'green')}: {shown}: {len(customers.customers)} customers, {count} hostnames "
              f"(cap {settings.max_hostnames:,}, zone {settings.zone})")
    return status_codes.OK
