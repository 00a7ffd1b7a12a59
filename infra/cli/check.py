"""`saas-domains check <hostname>`: the customer's DNS from a public resolver's view.

The CNAME target and the CA come from the stack; the ownership and certificate TXT values come
from the API when CLOUDFLARE_API_TOKEN is set (one request), otherwise TXT records are shown but
not compared. The resolver defaults to 1.1.1.1, a public one, because support's own network may
see the customer's DNS differently.
"""

from __future__ import annotations

import argparse
import ipaddress
from typing import Any

from infra.cli import status_codes
from infra.cli.cloud import chosen_zone_stack
from infra.cli.errors import UsageError
from infra.cli.markdown import check_markdown
from infra.cli.project import add_project_arguments
from infra.cli.terminal import JSON, MARKDOWN, add_format_arguments, plural, print_json, style, table
from infra.clients import network_limits
from infra.clients.resolver import DEFAULT_RESOLVER
from infra.model.hostnames import normalise_hostname
from infra.operations.check import FAIL, INFO, OK, WARN, ResolverChoice, check_hostname, failing_and_warnings

STATUS_COLOURS = {OK: "green", WARN: "yellow", FAIL: "red", INFO: "dim"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "check", help="diagnose a customer hostname's DNS: CNAME, stray A/AAAA, CAA, ownership TXT",
        description="Ask a resolver about a customer hostname and judge it against what Cloudflare needs: a "
                    "CNAME (chain) to the customer's target (or flattening at an apex), no conflicting A/AAAA "
                    "records, CAA records that allow the certificate authority, and the ownership and "
                    "certificate TXT records (compared with Cloudflare's values when CLOUDFLARE_API_TOKEN is "
                    f"set). Exit codes: {status_codes.OK} nothing fails (warnings allowed); {status_codes.PROBLEMS} at "
                    f"least one check fails; {status_codes.CANNOT_RUN} cannot run (usage, stack settings, or the "
                    "resolver does not answer, or answers NXDOMAIN even for the SaaS zone). A Cloudflare API that "
                    "fails only makes the TXT values go "
                    f"uncompared (said in the findings). {network_limits.short_help()}")
    parser.add_argument("hostname", help="a hostname of customers.yaml (or any, with --target)")
    add_project_arguments(parser)
    parser.add_argument("--resolver", default=DEFAULT_RESOLVER, metavar="ADDRESS[:PORT]",
                        help=f"DNS server to ask (default: {DEFAULT_RESOLVER}); 'system' uses /etc/resolv.conf")
    parser.add_argument("--resolver-port", type=int, default=None, metavar="PORT", help="its port (default: 53)")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                        help="per query to the resolver (default: 3); one question, retries included, may take "
                             "twice that, and the whole command at most SAAS_DOMAINS_COMMAND_TIMEOUT")
    parser.add_argument("--target", help="CNAME target to expect (default: <customer id>.<cnameSubdomain>.<zone>)")
    parser.add_argument("--no-api", action="store_true", help="do not ask Cloudflare for the TXT values")
    add_format_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stack, choice = chosen_zone_stack(args)
    hostname = _hostname(args.hostname)
    address, port = parse_resolver(args.resolver, args.resolver_port)
    if not 0 < args.timeout < float("inf"):
        raise UsageError(f"--timeout must be a number of seconds above 0, got {args.timeout:g}")
    report = check_hostname(args.clients, stack, hostname, ResolverChoice(address, port, args.timeout),
                            target=args.target, ask_cloudflare=not args.no_api)
    report.update(choice.to_json())
    if args.format == JSON:
        print_json(report)
    elif args.format == MARKDOWN:
        print(check_markdown(report, choice.describe()))
    else:
        print_text(report, choice.describe())
    return status_codes.OK if report["ok"] else status_codes.PROBLEMS


def _hostname(raw: str) -> str:
    try:
        return normalise_hostname(raw, allow_wildcard=True)
    except ValueError as err:
        raise UsageError(f"{raw!r} is not a hostname: {err}") from None


def parse_resolver(value: str, port: int | None) -> tuple[str | None, int]:
    """'1.1.1.1', '127.0.0.1:5353', '[::1]:53', '::1' or 'system' -> (address or None, port)."""
    if value == "system":
        return None, port or 53
    host, given = value, ""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        given = rest.removeprefix(":")
    elif value.count(":") == 1:
        host, given = value.split(":")
    try:
        ipaddress.ip_address(host)
        return host, port or (int(given) if given else 53)
    except ValueError:
        raise UsageError(f"--resolver wants an IP address (optionally :port) or 'system', got {value!r}") from None


def print_text(report: dict[str, Any], stack: str) -> None:
    customer = f"customer {report['customer']}, " if report["customer"] else ""
    print(style(f"saas-domains check {report['hostname']}: {customer}target {report['target']}, "
                f"resolver {report['resolver']}, {stack}", "bold"))
    print(table(("", "CHECK", "FINDING"),
                [(style(f["status"], STATUS_COLOURS[f["status"]]), f["check"], f["message"])
                 for f in report["findings"]], indent="  "))
    failures, warnings = failing_and_warnings(report)
    verdict = style("the DNS is right", "green") if not failures else style("fix the failing checks", "red")
    print(f"{failures} failing, {plural(warnings, 'warning')}: {verdict}")
