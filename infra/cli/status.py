"""`saas-domains status`: every declared hostname as Cloudflare sees it, what comes next, and drift.

One paginated listing of the zone's custom hostnames (1,000 per request, the most the API allows)
plus the fallback origin: the request count grows with pages, never per hostname (5,000 hostnames:
5 listing requests).
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.cli import status_codes
from infra.cli.cloud import EXIT_CODES_HELP, Stack, api_hostname, connect, list_zone_hostnames, load_stack
from infra.cli.errors import CommandError
from infra.cli.project import add_project_arguments
from infra.cli.terminal import print_json, style, table
from infra.model.customers import CustomerHostname
from infra.operations.status import (
    LIVE,
    PROBLEM,
    WAITING,
    age,
    certificate_status,
    diagnose,
    format_age,
    hostname_status,
    validation_errors,
    verification_errors,
)

LEVEL_COLOURS = {LIVE: "green", WAITING: "yellow", PROBLEM: "red"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status", help="live status of every declared hostname, its next step, and drift against Cloudflare",
        description="List every hostname of customers.yaml with its hostname and certificate status in "
                    "Cloudflare, verification errors, age and the next step; then the drift: hostnames "
                    "declared but missing in Cloudflare, and custom hostnames in Cloudflare that the file "
                    "does not declare. Exit 1 when anything needs attention: a problem, a hostname pending "
                    "longer than --stale-after-days, drift, or a fallback origin that is not active. "
                    + EXIT_CODES_HELP)
    add_project_arguments(parser)
    parser.add_argument("--customer", metavar="ID", help="only this customer's hostnames (drift: only its own)")
    parser.add_argument("--stale-after-days", type=float, default=3.0, metavar="DAYS",
                        help="a hostname still pending after this long needs attention (default: 3; "
                             "Cloudflare deletes it after 7)")
    parser.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stack = load_stack(args)
    declared = _declared(stack, args.customer)
    api, zone_id = connect(stack.settings)
    live = list_zone_hostnames(api, zone_id, stack.settings)
    fallback = api.fallback_origin(zone_id)
    report = build_report(stack, declared, live, fallback, customer=args.customer,
                          stale_after=timedelta(days=args.stale_after_days))
    if args.json:
        print_json(report)
    else:
        print_text(report)
    return status_codes.PROBLEMS if report["attention"] else status_codes.OK


def _declared(stack: Stack, customer: str | None) -> list[CustomerHostname]:
    if customer is None:
        return list(stack.customers.hostnames)
    if customer not in {c.id for c in stack.customers.customers}:
        known = ", ".join(sorted(c.id for c in stack.customers.customers)) or "none"
        raise CommandError(f"no customer {customer!r} in {stack.shown_path()} (customers: {known})")
    return [h for h in stack.customers.hostnames if h.customer_id == customer]


def build_report(stack: Stack, declared: list[CustomerHostname], live: list[dict[str, Any]],
                 fallback: dict[str, Any] | None, *, customer: str | None = None,
                 stale_after: timedelta = timedelta(days=3), now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    by_name = {api_hostname(item): item for item in live}
    rows, missing = [], []
    for entry in declared:
        item = by_name.get(entry.hostname)
        if item is None:
            missing.append({"hostname": entry.hostname, "customer": entry.customer_id, "status": None,
                            "ssl_status": None, "next_step": "not in Cloudflare: run `pulumi up` to create it"})
        else:
            rows.append(_row(entry, item, stack.settings.cname_target(entry.customer_id), now, stale_after))
    names = {entry.hostname for entry in stack.customers.hostnames}
    extra = [] if customer else [_extra(name, item, now) for name, item in sorted(by_name.items())
                                 if name not in names]
    origin = _fallback(fallback, stack.settings.fallback_hostname)
    levels = Counter(row["level"] for row in rows)
    attention = bool(levels[PROBLEM] or missing or extra or origin["level"] != LIVE)
    return {
        "stack": stack.name, "zone": stack.settings.zone, "customer": customer,
        "hostnames": rows, "missing_in_cloudflare": missing, "not_in_customers_file": extra,
        "fallback_origin": origin,
        "summary": {"declared": len(declared), "live": levels[LIVE], "waiting": levels[WAITING],
                    "problem": levels[PROBLEM], "missing_in_cloudflare": len(missing),
                    "not_in_customers_file": len(extra), "in_cloudflare": len(live)},
        "attention": attention,
    }


def _row(entry: CustomerHostname, item: dict[str, Any], target: str, now: datetime,
         stale_after: timedelta) -> dict[str, Any]:
    diagnosis = diagnose(item, cname_target=target, now=now, stale_after=stale_after)
    waited = age(item, now)
    return {
        "hostname": entry.hostname, "customer": entry.customer_id, "id": item.get("id"),
        "status": hostname_status(item), "ssl_status": certificate_status(item),
        "verification_errors": verification_errors(item), "ssl_validation_errors": validation_errors(item),
        "created_at": item.get("created_at"), "age_seconds": int(waited.total_seconds()) if waited else None,
        "age": format_age(waited), "level": diagnosis.level, "next_step": diagnosis.next_step,
    }


def _extra(name: str, item: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"hostname": name, "customer": None, "id": item.get("id"), "status": hostname_status(item),
            "ssl_status": certificate_status(item), "created_at": item.get("created_at"),
            "age": format_age(age(item, now)),
            "next_step": "not in customers.yaml: adopt it with `saas-domains import`, or delete it in Cloudflare"}


def _fallback(origin: dict[str, Any] | None, expected: str) -> dict[str, Any]:
    """Every hostname rides on the fallback origin: without it active, nothing is served."""
    if origin is None:
        return {"origin": None, "status": None, "errors": [], "expected": expected, "level": PROBLEM,
                "next_step": f"no fallback origin: run `pulumi up` (it sets {expected})"}
    status, name = origin.get("status"), origin.get("origin")
    errors = [str(e) for e in origin.get("errors") or []]
    if name != expected:
        level, step = PROBLEM, f"the fallback origin is {name}, the stack sets {expected}: run `pulumi up`"
    elif status == "active":
        level, step = LIVE, "active"
    elif status in ("initializing", "pending_deployment"):
        level, step = WAITING, "being deployed by Cloudflare (minutes)"
    else:
        level, step = PROBLEM, (f"{status or 'no status reported'}: check that {expected} is a proxied DNS "
                                "record in the zone")
    return {"origin": name, "status": status, "errors": errors, "expected": expected, "level": level,
            "next_step": step}


# -- text --------------------------------------------------------------------------------------------


def print_text(report: dict[str, Any]) -> None:
    summary = report["summary"]
    scope = f", customer {report['customer']}" if report["customer"] else ""
    print(style(f"saas-domains status: zone {report['zone']} (stack {report['stack']}{scope}): "
                f"{summary['declared']} declared hostnames, {summary['in_cloudflare']} custom hostnames "
                "in Cloudflare", "bold"))
    if report["hostnames"]:
        print(table(("HOSTNAME", "CUSTOMER", "STATUS", "CERTIFICATE", "AGE", "NEXT STEP"),
                    [(r["hostname"], r["customer"], r["status"], r["ssl_status"], r["age"],
                      style(r["next_step"], LEVEL_COLOURS[r["level"]])) for r in report["hostnames"]]))
    _print_errors(report["hostnames"])
    _print_drift(report)
    origin = report["fallback_origin"]
    print(f"Fallback origin: {origin['origin'] or '(none)'}: "
          f"{style(origin['next_step'], LEVEL_COLOURS[origin['level']])}")
    for error in origin["errors"]:
        print(f"  ! {error}")
    verdict = style("needs attention", "red") if report["attention"] else style("nothing needs attention", "green")
    print(f"{summary['live']} live, {summary['waiting']} waiting, {summary['problem']} problem; drift: "
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
    if report["not_in_customers_file"]:
        print()
        print(style("In Cloudflare but not in the customers file (drift):", "bold"))
        print(table(("HOSTNAME", "STATUS", "CERTIFICATE", "AGE", "NEXT STEP"),
                    [(e["hostname"], e["status"], e["ssl_status"], e["age"], e["next_step"])
                     for e in report["not_in_customers_file"]], indent="  "))
    print()
