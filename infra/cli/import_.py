"""`saas-domains import`: adopt custom hostnames (and the fallback origin) made before this project.

It appends the zone's undeclared custom hostnames to customers.yaml, grouped into customers, and
writes the `pulumi import --file` input so the next `pulumi up` adopts them instead of trying to
create them again (which Cloudflare would refuse as duplicates). Hostnames the file already
declares are never added twice.
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path
from typing import Any

from infra.cli import status_codes
from infra.cli.cloud import Stack, connect, list_zone_hostnames, load_stack
from infra.cli.errors import CommandError
from infra.cli.project import add_project_arguments
from infra.cli.terminal import JSON, TEXT, add_format_arguments, plural, print_json, style, table
from infra.model.customers import CustomersFileError
from infra.model.settings import ALL_ROLE
from infra.operations import network_limits
from infra.operations.import_ import (
    GROUP_RULES,
    ImportPlan,
    edge_records,
    hostnames_to_import,
    import_file,
    plan_import,
    write_import,
)


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
    stack = load_stack(args)
    if stack.settings.role != ALL_ROLE:
        # One import file adopts everything into one stack; a sharded zone would need one per shard.
        raise CommandError(
            f"stack {stack.name} has role {stack.settings.role}: import adopts hostnames into one stack, so run it "
            "on a single stack (role all) before sharding, then spread them with `saas-domains reshard`")
    api, zone_id = connect(stack.settings)
    live = list_zone_hostnames(api, zone_id, stack.settings)
    fallback = api.fallback_origin(zone_id)
    records = edge_records(api, zone_id, stack.settings.fallback_hostname, stack.settings.cname_domain,
                           stack.settings.origin)
    text = stack.customers_path.read_text(encoding="utf-8")
    try:  # a GroupingError (a bad --group-by) goes up to main() as it is: exit 2
        plan = plan_import(text, stack.shown_path(), stack.settings.validation_rules(), live,
                           group_by=args.group_by, customer=args.customer)
    except CustomersFileError as err:  # not the file as it is, but as the import would write it
        raise CommandError(f"the import would make the customers file invalid:\n{err}", status_codes.PROBLEMS) from None
    to_import = hostnames_to_import(plan, live, only_new=args.only_new)
    document = import_file(zone_id, to_import, fallback_origin=fallback is not None, records=records)
    import_path = args.import_file or stack.project_dir / f"Pulumi.{stack.name}.import.json"
    report = _report(stack, plan, document, fallback, records, import_path, args)
    if not args.dry_run:  # only now, with everything read from Cloudflare: a failure above writes nothing
        try:
            write_import(plan, document, import_path, stack.customers_path)
        except OSError as err:
            raise CommandError(f"cannot write {err.filename or import_path}: {err.strerror or err}") from None
    if args.format == JSON:
        print_json(report)
    else:
        print_text(report, stack.choice.describe())
    return status_codes.OK


def pulumi_command(stack: str, import_path: Path) -> str:
    return (f"pulumi import --stack {shlex.quote(stack)} --file {shlex.quote(os.path.relpath(import_path))} "
            "--protect=false --generate-code=false")


def _report(stack: Stack, plan: ImportPlan, document: dict[str, Any], fallback: dict[str, Any] | None,
            records: dict[str, str], import_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    resources = [r for r in document["resources"] if not r.get("component")]
    warnings = list(plan.differences)
    if fallback and fallback.get("origin") != stack.settings.fallback_hostname:
        warnings.append(f"the fallback origin is {fallback.get('origin')} in Cloudflare, the stack sets "
                        f"{stack.settings.fallback_hostname}: `pulumi up` will change it")
    return {
        **stack.choice.to_json(), "zone": stack.settings.zone, "dry_run": args.dry_run,
        "customers_file": stack.shown_path(), "customers_file_changed": plan.changed and not args.dry_run,
        "import_file": os.path.relpath(import_path) if resources else None,
        "adopted": [a.__dict__ for a in plan.adopted], "already_declared": plan.already_declared,
        "skipped": [{"hostname": h, "reason": why} for h, why in plan.skipped],
        "fallback_origin": fallback.get("origin") if fallback else None, "dns_records": sorted(records),
        "resources_to_import": len(resources), "warnings": warnings,
        "pulumi_command": pulumi_command(stack.name, import_path) if resources else None,
    }


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
