"""`saas-domains import`: adopt custom hostnames (and the fallback origin) made before this project.

It appends the zone's undeclared custom hostnames to customers.yaml, grouped into customers, and
writes the `pulumi import --file` input so the next `pulumi up` adopts them instead of trying to
create them again (which Cloudflare would refuse as duplicates). Hostnames the file already declares
are never added twice. The plan is import_plan.py (pure); this module reads Cloudflare and writes the
two files, only once everything was read, so a failure above writes nothing.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.errors import InputInvalid, OperationError
from infra.model.customers import CustomersFileError
from infra.model.settings import ALB_ORIGIN, ALL_ROLE
from infra.operations.files import FileWriteError, write_atomically
from infra.operations.import_plan import (
    EDGE_RECORD_LOOKUPS,
    FALLBACK,
    WILDCARD,
    ImportPlan,
    hostnames_to_import,
    import_file,
    plan_import,
)
from infra.operations.zone import ZoneStack, zone_hostnames, zone_id

if TYPE_CHECKING:
    from infra.clients.cloudflare import CloudflareApi


class NotASingleStack(OperationError):
    """One import file adopts everything into one stack; a sharded zone would need one per shard."""


@dataclass(frozen=True)
class ImportOptions:
    group_by: str = "registrable-domain"
    customer: str | None = None  # every adopted hostname into this customer
    only_new: bool = False  # the import file lists only this run's adoptions
    import_path: Path | None = None  # default: Pulumi.<stack>.import.json beside the stack file
    dry_run: bool = False


def import_hostnames(api: CloudflareApi, stack: ZoneStack, options: ImportOptions,
                     on_page: Callable[[int, int | None], None] | None = None) -> dict[str, Any]:
    """Plan the adoption, write the customers file and the import file (unless a dry run), report it."""
    settings = stack.settings
    if settings.role != ALL_ROLE:
        raise NotASingleStack(
            f"stack {stack.name} has role {settings.role}: import adopts hostnames into one stack, so run it "
            "on a single stack (role all) before sharding, then spread them with `saas-domains reshard`")
    zone = zone_id(api, settings)
    live = zone_hostnames(api, zone, settings, on_page=on_page)
    fallback = api.fallback_origin(zone)
    records = edge_records(api, zone, settings.fallback_hostname, settings.cname_domain, settings.origin)
    text = stack.customers_path.read_text(encoding="utf-8")
    try:  # a GroupingError (a bad --group-by) goes up as it is
        plan = plan_import(text, stack.shown_path(), settings.validation_rules(), live,
                           group_by=options.group_by, customer=options.customer)
    except CustomersFileError as err:  # not the file as it is, but as the import would write it
        raise InputInvalid("the import would make the customers file invalid; nothing was written:",
                           str(err)) from None
    document = import_file(zone, hostnames_to_import(plan, live, only_new=options.only_new),
                           fallback_origin=fallback is not None, records=records)
    import_path = options.import_path or stack.project_dir / f"Pulumi.{stack.name}.import.json"
    report = _report(stack, plan, document, fallback, records, import_path, options.dry_run)
    if not options.dry_run:
        write_import(plan, document, import_path, stack.customers_path)
    return report


def pulumi_command(stack: str, import_path: Path) -> str:
    return (f"pulumi import --stack {shlex.quote(stack)} --file {shlex.quote(os.path.relpath(import_path))} "
            "--protect=false --generate-code=false")


def _report(stack: ZoneStack, plan: ImportPlan, document: dict[str, Any], fallback: dict[str, Any] | None,
            records: dict[str, str], import_path: Path, dry_run: bool) -> dict[str, Any]:
    resources = [r for r in document["resources"] if not r.get("component")]
    warnings = list(plan.differences)
    if fallback and fallback.get("origin") != stack.settings.fallback_hostname:
        warnings.append(f"the fallback origin is {fallback.get('origin')} in Cloudflare, the stack sets "
                        f"{stack.settings.fallback_hostname}: `pulumi up` will change it")
    return {
        "zone": stack.settings.zone, "dry_run": dry_run,
        "customers_file": stack.shown_path(), "customers_file_changed": plan.changed and not dry_run,
        "import_file": os.path.relpath(import_path) if resources else None,
        "adopted": [a.__dict__ for a in plan.adopted], "already_declared": plan.already_declared,
        "skipped": [{"hostname": h, "reason": why} for h, why in plan.skipped],
        "fallback_origin": fallback.get("origin") if fallback else None, "dns_records": sorted(records),
        "resources_to_import": len(resources), "warnings": warnings,
        "pulumi_command": pulumi_command(stack.name, import_path) if resources else None,
    }


def edge_records(api: CloudflareApi, zone_id: str, fallback_hostname: str, cname_domain: str,
                 origin: str = ALB_ORIGIN) -> dict[str, str]:
    """The fallback and wildcard records the Edge component declares for `origin`, by resource name, when
    they exist: a record of another type under the fallback name (the other origin's) is not adopted."""
    names = {FALLBACK: fallback_hostname, WILDCARD: f"*.{cname_domain}"}
    found = {}
    for resource_name, which, record_type in EDGE_RECORD_LOOKUPS[origin]:
        records = api.dns_records(zone_id, names[which], record_type)
        if records:
            found[resource_name] = str(records[0]["id"])
    return found




def write_import(plan: ImportPlan, document: dict[str, Any], import_path: Path, customers_path: Path) -> None:
    """The import file first: a customers file without it would make `pulumi up` create duplicates.

    Called only once everything was read from Cloudflare; each file is replaced atomically, so a
    failure leaves it as it was."""
    try:
        if document["resources"]:
            write_atomically(import_path, json.dumps(document, indent=2) + "\n")
        if plan.changed:
            write_atomically(customers_path, plan.text)
    except OSError as err:
        raise FileWriteError(f"cannot write {err.filename or import_path}: {err.strerror or err}") from None
