"""`saas-domains status`: every declared hostname as Cloudflare sees it, what comes next, and drift.

One paginated listing of the zone's custom hostnames (1,000 per request, the most the API allows)
plus the fallback origin: the request count grows with pages, never per hostname (5,000 hostnames:
5 listing requests).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

from infra.cli import status_codes
from infra.cli.cloud import EXIT_CODES_HELP, chosen_zone_stack
from infra.cli.errors import UsageError
from infra.cli.markdown import DEFAULT_MAX_ROWS, status_markdown
from infra.cli.project import StackChoice, add_project_arguments
from infra.cli.terminal import (
    JSON,
    MARKDOWN,
    PageProgress,
    add_format_arguments,
    level_style,
    plural,
    print_json,
    style,
    table,
)
from infra.operations.files import write_json_document
from infra.operations.status import status


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status", help="live status of every declared hostname, its next step, and drift against Cloudflare",
        description="List every hostname of customers.yaml with its hostname and certificate status in "
                    "Cloudflare, verification errors, age and the next step; then the drift: hostnames "
                    "declared but missing in Cloudflare, and custom hostnames in Cloudflare that the file "
                    f"does not declare. Exit {status_codes.PROBLEMS} when anything needs attention: a problem, a "
                    "hostname pending longer than --stale-after-days, drift, or a fallback origin that is not "
                    "active. "
                    + EXIT_CODES_HELP)
    add_project_arguments(parser)
    parser.add_argument("--customer", metavar="ID", help="only this customer's hostnames (drift: only its own)")
    parser.add_argument("--stale-after-days", type=float, default=3.0, metavar="DAYS",
                        help="a hostname still pending after this long needs attention (default: 3; "
                             "Cloudflare deletes it after 7)")
    add_format_arguments(parser, purposes="text for a terminal, markdown for a ticket or a job summary (counts per "
                                          "state, then only what needs attention), json for machines")
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, metavar="N",
                        help=f"markdown: at most N hostnames in the attention table (default: {DEFAULT_MAX_ROWS}); "
                             "the rest are counted")
    parser.add_argument("--save-report", type=Path, metavar="FILE",
                        help="also write the JSON report to FILE (the status workflow keeps it as the state the "
                             "next run compares with)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.max_rows < 0:
        raise UsageError(f"--max-rows must be 0 or more, got {args.max_rows}")
    stack, choice = chosen_zone_stack(args)
    with PageProgress("Listing custom hostnames") as progress:
        report = status(args.clients.cloudflare(), stack, customer=args.customer,
                        stale_after=timedelta(days=args.stale_after_days), on_page=progress)
    report.update(choice.to_json())
    if args.save_report is not None:
        write_json_document(args.save_report, report, "the report")
    if args.format == JSON:
        print_json(report)
    elif args.format == MARKDOWN:
        print(status_markdown(report, max_rows=args.max_rows))
        print(f"\n<sub>Read with the settings of {choice.describe()}.</sub>")
    else:
        print_text(report, choice)
    return status_codes.PROBLEMS if report["attention"] else status_codes.OK


# -- text --------------------------------------------------------------------------------------------


def print_text(report: dict[str, Any], choice: StackChoice) -> None:
    summary = report["summary"]
    scope = f", customer {report['customer']}" if report["customer"] else ""
    print(style(f"saas-domains status: zone {report['zone']}, {choice.describe()}{scope}: "
                f"{plural(summary['declared'], 'declared hostname')}, "
                f"{plural(summary['in_cloudflare'], 'custom hostname')} in Cloudflare", "bold"))
    if report["hostnames"]:
        print(table(("HOSTNAME", "CUSTOMER", "STATUS", "CERTIFICATE", "AGE", "NEXT STEP"),
                    [(r["hostname"], r["customer"], r["status"], r["ssl_status"], r["age"],
                      level_style(r["next_step"], r["level"])) for r in report["hostnames"]]))
    _print_errors(report["hostnames"])
    _print_drift(report)
    origin = report["fallback_origin"]
    print(f"Fallback origin: {origin['origin'] or '(none)'}: "
          f"{level_style(origin['next_step'], origin['level'])}")
    for error in origin["errors"]:
        print(f"  ! {error}")
    verdict = style("needs attention", "red") if report["attention"] else style("nothing needs attention", "green")
    print(f"{summary['live']} live, {summary['waiting']} waiting, {plural(summary['problem'], 'problem')}; drift: "
          f"{summary['missing_in_cloudflare']} missing in Cloudflare, {summary['not_in_customers_file']} not in "
          f"the customers file; {verdict}")


def _print_errors(rows: list[dict[str, Any]]) -> None:
    lines = [f"  {row['hostname']}: {message}" for row in rows
             for message in row["verification_errors"] + row["ssl_validation_errors"]]
    if lines:
        print()
        print(style("Errors reported by Cloudflare:", "bold"))
        print("\n".join(lines))


def _print_drift(report: dict[str, Any]) -> None:
    if report["missing_in_cloudflare"]:
        print()
        print(style("Declared in the customers file but missing in Cloudflare (drift):", "bold"))
        print(table(("HOSTNAME", "CUSTOMER", "NEXT STEP"),
                    [(m["hostname"], m["customer"], m["next_step"]) for m in report["missing_in_cloudflare"]],
                    indent="  "))
        print("  To create them again:")
        for command in report.get("recreate_missing") or ():
            print(f"    {command}")
    if report["not_in_customers_file"]:
        print()
        print(style("In Cloudflare but not in the customers file (drift):", "bold"))
        print(table(("HOSTNAME", "STATUS", "CERTIFICATE", "AGE", "NEXT STEP"),
                    [(e["hostname"], e["status"], e["ssl_status"], e["age"], e["next_step"])
                     for e in report["not_in_customers_file"]], indent="  "))
    print()
