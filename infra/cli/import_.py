"""`saas-domains import`: adopt custom hostnames (and the fallback origin) made before this project.

It appends the zone's undeclared custom hostnames to customers.yaml, grouped into customers, and
writes the `pulumi import --file` input so the next `pulumi up` adopts them instead of trying to
create them again (which Cloudflare would refuse as duplicates). Hostnames the file already
declares are never added twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from infra.cli import status_codes
from infra.cli.cloud import chosen_zone_stack
from infra.cli.project import add_project_arguments
from infra.cli.terminal import JSON, TEXT, PageProgress, add_format_arguments, plural, print_json, style, table
from infra.clients import network_limits
from infra.operations.import_ import ImportOptions, import_hostnames
from infra.operations.import_plan import GROUP_RULES


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "import", help="adopt custom hostnames made by hand: customers.yaml entries + a pulumi import file",
        description="Append the zone's custom hostnames that customers.yaml does not declare (grouped into "
                    "customers, keeping the file's comments and order, with the SSL settings, metadata and "
                    "origin they have in Cloudflare) and write the `pulumi import --file` input that adopts "
                    "them, the fallback origin and the edge's DNS records, so the next `pulumi up` does not "
                    "create them again. The edited file must pass the program's validation or nothing is "
                    f"written. Exit codes: {status_codes.OK} done (or nothing to adopt); {status_codes.PROBLEMS} the "
                    f"customers file is or would become invalid; {status_codes.CANNOT_RUN} cannot run (usage, "
                    "stack settings, no CLOUDFLARE_API_TOKEN, or the Cloudflare API failed; then nothing is "
                    f"written). {network_limits.short_help()}")
    add_project_arguments(parser)
    parser.add_argument("--group-by", default="registrable-domain", metavar="RULE",
                        help=f"how hostnames become customers: {', '.join(GROUP_RULES)} (a custom_metadata key "
                             "holding the customer id); default registrable-domain: mail.mkdev.me -> mkdev-me")
    parser.add_argument("--customer", metavar="ID", help="put every adopted hostname into this customer")
    parser.add_argument("--only-new", action="store_true",
                        help="list only the hostnames adopted by this run in the import file (default: every "
                             "declared hostname that exists in Cloudflare; pulumi import leaves those already "
                             "in the stack alone, so running import twice loses nothing)")
    parser.add_argument("--import-file", type=Path, metavar="PATH",
                        help="where to write the pulumi import input (default: Pulumi.<stack>.import.json)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    add_format_arguments(parser, formats=(TEXT, JSON))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stack, choice = chosen_zone_stack(args)
    options = ImportOptions(group_by=args.group_by, customer=args.customer, only_new=args.only_new,
                            import_path=args.import_file, dry_run=args.dry_run)
    with PageProgress("Listing custom hostnames") as progress:
        report = import_hostnames(args.clients.cloudflare(), stack, options, on_page=progress)
    report = {**choice.to_json(), **report}
    if args.format == JSON:
        print_json(report)
    else:
        print_text(report, choice.describe())
    return status_codes.OK


def print_text(report: dict[str, Any], stack: str) -> None:
    print(style(f"saas-domains import: zone {report['zone']}, {stack}"
                + (" — dry run, nothing written" if report["dry_run"] else ""), "bold"))
    adopted = report["adopted"]
    if adopted:
        print(f"Adopting {plural(len(adopted), 'hostname')} into {report['customers_file']}:")
        print(table(("HOSTNAME", "CUSTOMER", ""),
                    [(a["hostname"], a["customer"], "new customer" if a["new_customer"] else "existing customer")
                     for a in adopted], indent="  "))
    else:
        print(f"No custom hostname to adopt: {report['customers_file']} already declares every one in Cloudflare.")
    if report["already_declared"]:
        print(f"Already declared, left as they are: {len(report['already_declared'])}")
    for skipped in report["skipped"]:
        print(style(f"  skipped {skipped['hostname']}: {skipped['reason']}", "yellow"))
    if report["fallback_origin"]:
        records = ", ".join(report["dns_records"]) or "no records found"
        print(f"Fallback origin {report['fallback_origin']} adopted too (edge records: {records}).")
    if report["warnings"]:
        print(style("The next `pulumi up` will change (the file wins):", "yellow"))
        for warning in report["warnings"]:
            print(f"  - {warning}")
    if report["pulumi_command"]:
        verb = "Would write" if report["dry_run"] else "Wrote"
        changed = f"{report['customers_file']} and " if adopted else ""
        print(f"{verb} {changed}{report['import_file']} ({plural(report['resources_to_import'], 'resource')}). "
              "Next:")
        print(f"  {report['pulumi_command']}")
        print("  pulumi preview --diff    # then review: adopted hostnames must show no replacement")
