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

from infra.cli import status_codes
from infra.cli.cloud import EXIT_CODES_HELP, chosen_zone_stack
from infra.cli.markdown import instructions_markdown
from infra.cli.project import add_project_arguments
from infra.cli.terminal import JSON, MARKDOWN, add_format_arguments, print_json, style, table
from infra.model.hostnames import registrable_domain
from infra.operations.instructions import Instructions, instructions, needed


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
    stack, choice = chosen_zone_stack(args)
    results = instructions(args.clients.cloudflare(), stack, args.target)
    if args.format == JSON:
        print_json({**choice.to_json(), "hostnames": [r.as_json() for r in results]})
    else:
        render = instructions_markdown if args.format == MARKDOWN else instructions_text
        print("\n\n".join(render(r) for r in results))
        print(style(f"read with the settings of {choice.describe()}", "dim", sys.stderr), file=sys.stderr)
    for result in results:
        for missing in result.not_yet:
            print(style(f"not available yet for {result.hostname}: {missing}", "yellow", sys.stderr),
                  file=sys.stderr)
    return status_codes.OK if all(r.complete for r in results) else status_codes.PROBLEMS


def instructions_text(result: Instructions) -> str:
    lines = [f"DNS records for {result.hostname}", "",
             f"Please add these records at the DNS provider of {registrable_domain(result.hostname)}:", ""]
    lines.append(table(("TYPE", "NAME", "VALUE", ""),
                       [(r.type, r.name, r.value, "" if r.required else "(optional)") for r in result.records],
                       indent="  "))
    lines += ["", "Why:"]
    lines += [f"  - {r.type} {r.name} ({needed(r.required)}): {r.purpose}" for r in result.records]
    if result.notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in result.notes]
    return "\n".join(lines)
