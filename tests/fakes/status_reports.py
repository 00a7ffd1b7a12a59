"""Reports shaped like `saas-domains status --save-report` writes them, built from a few words per hostname."""

from __future__ import annotations

from typing import Any

from infra.operations.status import MISSING_NEXT_STEP

NEXT_STEPS = {"live": "live", "waiting": "waiting for the customer's CNAME",
              "problem": "certificate validation timed out: fix the customer's DNS"}


def report_of(levels: dict[str, str] | None = None, *, missing: list[str] = (), extra: list[str] = (),
              fallback: str = "live", zone: str = "mailito.com", stack: str = "dev",
              generated_at: str = "2026-03-01T10:00:00Z", errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """`levels`: hostname → live / waiting / problem (declared and in Cloudflare); `missing`: declared, not in
    Cloudflare; `extra`: in Cloudflare, not in the customers file."""
    levels = levels or {}
    errors = errors or {}
    rows = [{"hostname": name, "customer": name.split(".")[-2], "id": f"id-{name}",
             "status": "active" if level == "live" else "pending",
             "ssl_status": "active" if level == "live" else "pending_validation",
             "verification_errors": errors.get(name, []), "ssl_validation_errors": [],
             "created_at": "2026-02-01T00:00:00Z", "age_seconds": 3600, "age": "1h", "level": level,
             "next_step": NEXT_STEPS[level]} for name, level in levels.items()]
    missing_rows = [{"hostname": name, "customer": name.split(".")[-2], "status": None, "ssl_status": None,
                     "next_step": MISSING_NEXT_STEP} for name in missing]
    extra_rows = [{"hostname": name, "customer": None, "id": f"id-{name}", "status": "active", "ssl_status": "active",
                   "created_at": "2026-02-01T00:00:00Z", "age": "1h",
                   "next_step": "not in customers.yaml: adopt it with `saas-domains import`, or delete it in "
                                "Cloudflare"} for name in extra]
    origin = {"origin": f"proxy-fallback.{zone}", "status": "active" if fallback == "live" else "pending_deployment",
              "errors": [], "expected": f"proxy-fallback.{zone}", "level": fallback,
              "next_step": "active" if fallback == "live" else "check the fallback record"}
    count = {level: sum(1 for v in levels.values() if v == level) for level in ("live", "waiting", "problem")}
    return {
        "stack": stack, "zone": zone, "customer": None, "generated_at": generated_at,
        "hostnames": rows, "missing_in_cloudflare": missing_rows, "not_in_customers_file": extra_rows,
        "fallback_origin": origin,
        "summary": {"declared": len(rows) + len(missing_rows), **count, "missing_in_cloudflare": len(missing_rows),
                    "not_in_customers_file": len(extra_rows), "in_cloudflare": len(rows) + len(extra_rows)},
        "attention": bool(count["problem"] or missing_rows or extra_rows or fallback != "live"),
    }
