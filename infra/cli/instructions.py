"""`saas-domains instructions`: exactly what a customer must add to their DNS, ready for an e-mail.

The CNAME comes from the stack; the ownership TXT and certificate-validation records come live
from the API, because Cloudflare makes them when the hostname is created (and the certificate
records only some minutes later). What is not there yet is said on stderr, and the exit code is 1,
so support knows to run the command again before sending. The text and Markdown on stdout are for
the customer, so the stack they were read with is said on stderr (and in the JSON).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from infra.cli import status_codes
from infra.cli.cloud import EXIT_CODES_HELP, Stack, connect, load_stack
from infra.cli.errors import CommandError
from infra.cli.project import add_project_arguments
from infra.cli.terminal import JSON, MARKDOWN, add_format_arguments, print_json, style, table
from infra.model.customers import CustomerHostname
from infra.model.hostnames import normalise_hostname, registrable_domain
from infra.operations.instructions import Instructions, live_instructions


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "instructions", help="the DNS records a customer must add, ready to paste into an e-mail",
        description="Print what the customer must add to their DNS for one hostname, or for every hostname "
                    "of one customer: the CNAME, the optional ownership TXT record for pre-validation and any "
                    "certificate-validation records, read live from Cloudflare. Records Cloudflare has not "
                    f"produced yet are named on stderr and make the exit code {status_codes.PROBLEMS}. "
                    + EXIT_CODES_HELP)
    parser.add_argument("target", metavar="HOSTNAME|CUSTOMER", help="a hostname or a customer id of customers.yaml")
    add_project_arguments(parser)
    add_format_arguments(parser, purposes="text for a plain e-mail, markdown for a ticket or an HTML e-mail, json "
                                          "for machines")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stack = load_stack(args)
    entries = select_hostnames(stack, args.target)
    api, zone_id = connect(stack.settings)
    results = live_instructions(api, zone_id, entries, stack.settings)
    if args.format == JSON:
        print_json({**stack.choice.to_json(), **as_json(results)})
    else:
        render = render_markdown if args.format == MARKDOWN else render_text
        print("\n\n".join(render(r) for r in results))
        print(style(f"read with the settings of {stack.choice.describe()}", "dim", sys.stderr), file=sys.stderr)
    for result in results:
        for missing in result.not_yet:
            print(style(f"not available yet for {result.hostname}: {missing}", "yellow", sys.stderr),
                  file=sys.stderr)
    return status_codes.OK if all(r.complete for r in results) else status_codes.PROBLEMS


def select_hostnames(stack: Stack, target: str) -> list[CustomerHostname]:
    """A customer id selects all its hostnames; anything else must be a declared hostname."""
    owned = [h for h in stack.customers.hostnames if h.customer_id == target]
    if owned:
        return owned
    try:
        hostname = normalise_hostname(target, allow_wildcard=True)
    except ValueError:
        hostname = None
    entry = stack.declared(hostname) if hostname else None
    if entry is None:
        raise CommandError(f"{target!r} is neither a customer id nor a hostname in {stack.shown_path()}")
    return [entry]


def _needed(required: bool) -> str:
    return "required" if required else "optional"


def render_text(result: Instructions) -> str:
    lines = [f"DNS records for {result.hostname}", "",
             f"Please add these records at the DNS provider of {registrable_domain(result.hostname)}:", ""]
    lines.append(table(("TYPE", "NAME", "VALUE", ""),
                       [(r.type, r.name, r.value, "" if r.required else "(optional)") for r in result.records],
                       indent="  "))
    lines += ["", "Why:"]
    lines += [f"  - {r.type} {r.name} ({_needed(r.required)}): {r.purpose}" for r in result.records]
    if result.notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in result.notes]
    return "\n".join(lines)


def render_markdown(result: Instructions) -> str:
    lines = [f"### DNS records for `{result.hostname}`", "",
             f"Please add these records at the DNS provider of `{registrable_domain(result.hostname)}`:", "",
             "| Type | Name | Value | Needed | Why |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.type} | `{r.name}` | `{r.value}` | {_needed(r.required)} | {r.purpose} |"
              for r in result.records]
    if result.notes:
        lines += [""] + [f"- {note}" for note in result.notes]
    return "\n".join(lines)


def as_json(results: list[Instructions]) -> dict[str, Any]:
    return {"hostnames": [r.as_json() for r in results]}
