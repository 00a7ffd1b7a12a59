"""`saas-domains plan`: what the stack declares, rendered offline from the real program.

It runs `__main__.py` under Pulumi's mock engine with the stack's config. It does not know what is
deployed: it is a picture of the program, not `pulumi preview`.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any

from infra.cli import status_codes
from infra.cli.project import add_project_arguments, find_project_dir, read_stack, stack_choice
from infra.cli.terminal import JSON, TEXT, add_format_arguments, plural, print_json, progress, style, table
from infra.model import names
from infra.model.provider_caveats import standing_caveat

NOTE = ("This is a rendering of the program under Pulumi's mock engine with the stack's config, "
        "not a diff against deployed state: run `pulumi preview --diff` with credentials for that.")
COMPONENT_TITLES = {
    names.ORIGIN_AUTH_TYPE: "Origin authentication",
    names.ORIGIN_TYPE: "Origin (AWS)",
    names.CLOUD_RUN_ORIGIN_TYPE: "Origin (Google Cloud Run)",
    names.EDGE_TYPE: "Edge (Cloudflare)",
    names.CUSTOMER_HOSTNAMES_TYPE: "Customer hostnames (Cloudflare)",
    names.CERTIFICATE_ALERTS_TYPE: "Certificate alerts (Cloudflare account)",
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "plan", help="render what the stack declares, offline, under Pulumi's mock engine",
        description=NOTE + f" Exit {status_codes.OK} when the program runs, {status_codes.PROBLEMS} when it stops "
                           f"with an error (e.g. an invalid customers file), {status_codes.CANNOT_RUN} when the "
                           "stack cannot be read.")
    add_project_arguments(parser)
    add_format_arguments(parser, formats=(TEXT, JSON))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    read_stack(project_dir, choice)  # no such stack file, or not YAML: exit 2 here, not "the program stopped"
    progress(f"Rendering {choice.describe()} under Pulumi's mock engine…")
    started = time.monotonic()
    from infra.offline import render  # imports Pulumi: only the plan pays for it

    rendering = render(project_dir, choice.name)  # a ProgramError reaches main(): exit 1, nothing declared
    summary = {**choice.to_json(), **summarise(rendering)}
    summary["seconds"] = round(time.monotonic() - started, 2)
    if args.format == JSON:
        print_json(summary)
    else:
        print_text(summary, choice.why)
    return status_codes.OK


def summarise(rendering: Any) -> dict[str, Any]:
    """Resources grouped by component (and, for hostnames, by customer), counts, DNS instructions."""
    from infra.offline import SECRET_PLACEHOLDER  # the runner's word for a secret, shown as the runner shows it

    instructions: dict[str, dict] = rendering.outputs.get("customerHostnames") or {}
    secret_outputs = set(getattr(rendering, "secret_outputs", ()))  # never printed, even as placeholders

    components: dict[str, dict[str, Any]] = {}
    for resource in rendering.resources:
        if not resource.custom:
            components[resource.urn] = {"type": resource.type, "name": resource.name,
                                        "title": COMPONENT_TITLES.get(resource.type, resource.type),
                                        "resources": []}
    for resource in rendering.resources:
        if resource.custom:
            parent = components.get(resource.parent)
            entry = {"type": resource.type, "name": resource.name}
            if resource.type == names.CUSTOM_HOSTNAME_RESOURCE:
                entry["customer"] = (instructions.get(resource.name) or {}).get("customer")
            (parent or components.setdefault("", {"type": "", "name": "", "title": "Stack",
                                                   "resources": []}))["resources"].append(entry)

    order = list(COMPONENT_TITLES)
    ordered = sorted(components.values(),
                     key=lambda c: (order.index(c["type"]) if c["type"] in order else len(order), c["name"]))
    for component in ordered:
        component["resources"].sort(key=lambda r: (r["type"], r["name"]))

    customers: dict[str, list[dict]] = defaultdict(list)
    for hostname, item in sorted(instructions.items()):
        customers[item["customer"]].append({"hostname": hostname, "cname": item["cname"],
                                            "ownershipTxt": item["ownershipTxt"]})
    extras = sorted(r.name for r in rendering.resources if r.type == names.CUSTOM_HOSTNAME_RESOURCE
                    and (r.inputs.get("customOriginServer") or r.inputs.get("customMetadata")))
    caveat = standing_caveat(extras)
    return {
        "stack": rendering.stack,
        "role": role_of(rendering.config),
        "note": NOTE,
        "provider_notes": [caveat] if caveat else [],
        "outputs": {k: SECRET_PLACEHOLDER if k in secret_outputs else v
                    for k, v in rendering.outputs.items() if k != "customerHostnames"},
        "components": ordered,
        "counts": {
            "resources": sum(1 for r in rendering.resources if r.custom),
            "components": sum(1 for r in rendering.resources if not r.custom),
            "customers": len(customers),
            "customHostnames": len(instructions),
            "providerLookups": len(rendering.invokes),
        },
        "customers": [{"id": cid, "hostnames": hosts} for cid, hosts in sorted(customers.items())],
    }


def role_of(config: dict[str, str]) -> dict[str, Any]:
    """The stack's role (issue 11): all, core, or shard with its index, count and core stack."""
    prefix = f"{names.PROJECT}:"
    role: dict[str, Any] = {"name": config.get(prefix + "role") or "all"}
    if role["name"] == "shard":
        role.update(shard=int(config.get(prefix + "shard") or 0), shards=int(config.get(prefix + "shards") or 1),
                    coreStack=config.get(prefix + "coreStack"))
    return role


def print_text(summary: dict[str, Any], why: str) -> None:
    counts = summary["counts"]
    print(style(f"saas-domains plan: stack {summary['stack']} ({why})", "bold"))
    role = summary.get("role") or {"name": "all"}
    if role["name"] == "core":
        print("Role core: origin, edge and zone-wide settings; the shard stacks declare the customer hostnames.")
    elif role["name"] == "shard":
        print(f"Role shard {role['shard']} of {role['shards']} (0-based): only its share of the customer hostnames; "
              f"the zone id comes from the core stack {role['coreStack']} (answered offline).")
    print(style(summary["note"], "yellow"))
    for note in summary.get("provider_notes", ()):
        print(style(f"warning: {note}", "yellow"))
    print()
    for component in summary["components"]:
        resources = component["resources"]
        print(style(f"{component['title']}: {plural(len(resources), 'resource')}", "bold"))
        if component["type"] == names.CUSTOMER_HOSTNAMES_TYPE:
            per_customer: dict[str, list[str]] = defaultdict(list)
            for resource in resources:
                per_customer[resource["customer"] or "?"].append(resource["name"])
            print(table(("CUSTOMER", "HOSTNAMES"),
                        [(cid, ", ".join(sorted(hosts))) for cid, hosts in sorted(per_customer.items())],
                        indent="  ", empty="none"))
        else:
            print(table(("TYPE", "NAME"), [(r["type"], r["name"]) for r in resources], indent="  ", empty="none"))
        print()

    print(style("What each customer must add to their DNS", "bold"))
    rows = []
    for customer in summary["customers"]:
        for host in customer["hostnames"]:
            rows.append((customer["id"], host["cname"]["name"], "CNAME", host["cname"]["target"]))
            txt = host["ownershipTxt"]
            rows.append(("", txt["name"] or "", "TXT", txt["value"] or "(known once Cloudflare made it)"))
    if rows:
        print(table(("CUSTOMER", "NAME", "TYPE", "CONTENT"), rows, indent="  "))
        print("  The CNAME is what makes a hostname live; the TXT record only pre-validates it "
              "before the CNAME moves.")
    elif role["name"] == "core":
        print("  nothing: this stack declares no custom hostname (its shard stacks do)")
    else:
        print("  nothing: this stack declares no custom hostname")
    print()
    print(style("Stack outputs (values the clouds assign are placeholders here)", "bold"))
    print(table(("OUTPUT", "VALUE"), sorted(summary["outputs"].items()), indent="  ", empty="none"))
    print()
    print(f"{plural(counts['resources'], 'resource')} in {plural(counts['components'], 'component')}; "
          f"{plural(counts['customers'], 'customer')}, {plural(counts['customHostnames'], 'custom hostname')}; "
          f"{plural(counts['providerLookups'], 'provider lookup')}; rendered in {summary['seconds']} s")
