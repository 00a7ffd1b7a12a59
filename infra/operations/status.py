"""`saas-domains status`: every declared hostname as Cloudflare sees it, what comes next, and drift.

`status` is the command: one paginated listing of the zone's custom hostnames (1,000 per request)
plus the fallback origin, so the request count grows with pages, never per hostname. The rest is
pure, over dicts shaped like the API's custom-hostname JSON (read through custom_hostname_fields.py),
so support's wording can be tested without a network: `assess_hostname` says where a hostname stands
(live, waiting, problem) and the next step. Hostname (ownership) validation and certificate (DCV)
validation are separate in Cloudflare for SaaS, each with its own status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra.errors import OperationError
from infra.model.customers import CustomerHostname, CustomersFile
from infra.model.names import custom_hostname_urn
from infra.model.settings import StackSettings
from infra.operations.custom_hostname_fields import (
    age,
    api_hostname,
    blocks_ca,
    certificate_status,
    format_age,
    hostname_status,
    ssl_of,
    validation_errors,
    verification_errors,
)
from infra.operations.zone import ZoneStack, zone_hostnames, zone_id

if TYPE_CHECKING:
    from infra.clients.cloudflare import CloudflareApi

LIVE, WAITING, PROBLEM = "live", "waiting", "problem"
DEFAULT_STALE_AFTER = timedelta(days=3)  # Cloudflare retries validation for 7 days, then deletes
GIVE_UP_DAYS = 7

_BLOCKED = {"blocked", "pending_blocked", "test_blocked"}
_DELETING = {"pending_deletion", "deleted"}
_SSL_REMOVING = {"deleted", "pending_deletion", "pending_cleanup", "deactivating", "inactive", "deletion_timed_out"}
_SSL_WAITING = {
    "initializing": "Cloudflare is preparing the certificate order",
    "pending_issuance": "the CA is issuing the certificate (usually minutes)",
    "pending_deployment": "the certificate is being deployed to Cloudflare's edge (usually minutes)",
    "staging_deployment": "the certificate is being deployed to Cloudflare's edge (usually minutes)",
    "holding_deployment": "the certificate is being deployed to Cloudflare's edge (usually minutes)",
    "pending_expiration": "the certificate is being renewed",
    "backup_issued": "a backup certificate is being issued",
}


@dataclass(frozen=True)
class Assessment:
    """How urgent (live / waiting / problem) and the plain-language next step for support."""

    level: str
    next_step: str


def assess_hostname(item: Mapping[str, Any], *, cname_target: str, now: datetime | None = None,
             stale_after: timedelta = DEFAULT_STALE_AFTER) -> Assessment:
    """The next step for one custom hostname; waiting turns into a problem once it is stale."""
    assessment = _assess_state(item, cname_target)
    if assessment.level != WAITING:
        return assessment
    waited = age(item, now)
    if waited is not None and waited > stale_after:
        return Assessment(PROBLEM, f"pending for {format_age(waited)} (Cloudflare gives up after "
                                  f"{GIVE_UP_DAYS} days): {assessment.next_step}")
    return assessment


def _assess_state(item: Mapping[str, Any], cname_target: str) -> Assessment:
    """Most severe first: the hostname's fate, then certificate blockers, then who we wait for."""
    hostname = item.get("hostname", "the hostname")
    status = hostname_status(item)
    if status == "moved":
        return Assessment(PROBLEM, f"moved: the customer's DNS no longer points here; it will be deleted after "
                                  f"{GIVE_UP_DAYS} days unless {hostname} CNAMEs to {cname_target} again")
    if status in _BLOCKED:
        return Assessment(PROBLEM, "blocked by Cloudflare (the hostname may be on a blocklist or claimed by "
                                  "another Cloudflare account): contact Cloudflare support")
    if status in _DELETING:
        return Assessment(PROBLEM, f"being deleted in Cloudflare ({status}); `pulumi up` recreates it once "
                                  "it is gone if customers.yaml still lists it")
    if status == "test_failed":
        return Assessment(PROBLEM, "Cloudflare's pre-activation test failed: run `saas-domains check "
                                  f"{hostname}` and fix the customer's DNS")
    if blocks_ca(item):
        return Assessment(PROBLEM, "CAA record blocks the CA: the customer must allow the certificate "
                                  f"authority in their CAA records (`saas-domains check {hostname}` shows which)")
    certificate = _certificate_step(item, cname_target)
    if certificate is not None and certificate.level == PROBLEM:
        return certificate
    if status == "active":
        return certificate or Assessment(LIVE, "live")
    if status == "pending":
        return Assessment(WAITING, _waiting_for_customer(item, cname_target))
    return Assessment(WAITING, f"Cloudflare is provisioning the hostname ({status or 'no status yet'})")


def _certificate_step(item: Mapping[str, Any], cname_target: str) -> Assessment | None:
    """None when the certificate is active; otherwise what it waits for or what broke."""
    ssl_status, hostname = certificate_status(item), item.get("hostname", "the hostname")
    if ssl_status == "active":
        return None
    if ssl_status and ssl_status.endswith("_timed_out") and ssl_status != "deletion_timed_out":
        phase = ssl_status[: -len("_timed_out")]
        return Assessment(PROBLEM, f"certificate {phase} timed out: fix the customer's DNS (`saas-domains check "
                                  f"{hostname}`), then restart validation by sending the same ssl settings "
                                  "again (PATCH the custom hostname, or Refresh in the dashboard)")
    if ssl_status == "expired":
        return Assessment(PROBLEM, "certificate expired: renewal failed; check the customer's CNAME and CAA "
                                  f"records (`saas-domains check {hostname}`)")
    if ssl_status in _SSL_REMOVING:
        return Assessment(PROBLEM, f"certificate is being removed ({ssl_status})")
    if ssl_status in _SSL_WAITING:
        return Assessment(WAITING, _SSL_WAITING[ssl_status])
    if ssl_status == "pending_validation":
        return Assessment(WAITING, _waiting_for_validation(item, cname_target))
    return Assessment(WAITING, f"certificate status {ssl_status or 'unknown'}: waiting for Cloudflare")


def _waiting_for_customer(item: Mapping[str, Any], cname_target: str) -> str:
    hostname = item.get("hostname", "the hostname")
    txt = (item.get("ownership_verification") or {}).get("name")
    alternative = f" (or the ownership TXT {txt} to pre-validate)" if txt else ""
    return f"waiting for the customer's CNAME: {hostname} CNAME {cname_target}{alternative}"


def _waiting_for_validation(item: Mapping[str, Any], cname_target: str) -> str:
    """The hostname may already be active: then visitors get TLS errors until this completes."""
    hostname, method = item.get("hostname", "the hostname"), ssl_of(item).get("method")
    prefix = ""
    if hostname_status(item) == "active":
        prefix = "hostname active but TLS fails until the certificate is issued: "
    if method == "txt":
        records = [r for r in ssl_of(item).get("validation_records") or [] if r.get("txt_name")]
        if not records:
            return prefix + "waiting for Cloudflare to publish the certificate TXT record (minutes after creation)"
        names = ", ".join(f"{r['txt_name']} TXT {r.get('txt_value', '')}" for r in records)
        return prefix + f"waiting for the customer's certificate TXT record: {names}"
    if method == "email":
        return prefix + "waiting for the domain owner to approve the CA's validation e-mail"
    return prefix + f"waiting for validation over HTTP: {hostname} must CNAME to {cname_target}"


# -- the report ------------------------------------------------------------------------------------

# A declared hostname Cloudflare does not have: never created, or deleted by Cloudflare, which removes a
# custom hostname left `pending` or `moved` for 7 days (its validation backoff). In the second case the
# stack's state still holds it, and an `up` without refresh changes nothing (the provider removes a
# hostname from state only when a refresh reads a 404: internal/services/custom_hostname/resource.go,
# Read), so the hostname is refreshed out of the state first; the `up` then creates it with a new
# ownership TXT value, and earlier instructions are void.
MISSING_NEXT_STEP = ("not in Cloudflare (never created, or deleted by Cloudflare after 7 days pending or moved): "
                     "run the `pulumi refresh` below, then `pulumi up` creates it with a new ownership TXT value; "
                     "send the customer new instructions after that")


def recreate_commands(stack: str, hostnames: Sequence[str]) -> list[str]:
    """`pulumi refresh` of just the missing hostnames (it drops what Cloudflare deleted), then `pulumi up`."""
    if not hostnames:
        return []
    targets = " ".join(f"--target '{custom_hostname_urn(stack, h)}'" for h in hostnames)
    return [f"pulumi refresh --stack {stack} --yes {targets}", f"pulumi up --stack {stack}"]


def status_report(stack: str, settings: StackSettings, customers: CustomersFile,
                  declared: Sequence[CustomerHostname], live: Sequence[Mapping[str, Any]],
                  fallback: Mapping[str, Any] | None, *, customer: str | None = None,
                  stale_after: timedelta = DEFAULT_STALE_AFTER, now: datetime | None = None) -> dict[str, Any]:
    """The declared hostnames as Cloudflare sees them, drift both ways, the fallback origin, and whether
    anything needs attention (a problem, drift, or a fallback origin that is not live)."""
    now = now or datetime.now(UTC)
    by_name = {api_hostname(item): item for item in live}
    rows, missing = [], []
    for entry in declared:
        item = by_name.get(entry.hostname)
        if item is None:
            missing.append({"hostname": entry.hostname, "customer": entry.customer_id, "status": None,
                            "ssl_status": None, "next_step": MISSING_NEXT_STEP})
        else:
            rows.append(_row(entry, item, settings.cname_target(entry.customer_id), now, stale_after))
    names = {entry.hostname for entry in customers.hostnames}
    extra = [] if customer else [_extra(name, item, now) for name, item in sorted(by_name.items())
                                 if name not in names]
    origin = assess_fallback_origin(fallback, settings.fallback_hostname)
    levels = Counter(row["level"] for row in rows)
    attention = bool(levels[PROBLEM] or missing or extra or origin["level"] != LIVE)
    return {
        "stack": stack, "zone": settings.zone, "customer": customer,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hostnames": rows, "missing_in_cloudflare": missing, "not_in_customers_file": extra,
        "recreate_missing": recreate_commands(stack, [m["hostname"] for m in missing]),
        "fallback_origin": origin,
        "summary": {"declared": len(declared), "live": levels[LIVE], "waiting": levels[WAITING],
                    "problem": levels[PROBLEM], "missing_in_cloudflare": len(missing),
                    "not_in_customers_file": len(extra), "in_cloudflare": len(live)},
        "attention": attention,
    }


def _row(entry: CustomerHostname, item: Mapping[str, Any], target: str, now: datetime,
         stale_after: timedelta) -> dict[str, Any]:
    assessment = assess_hostname(item, cname_target=target, now=now, stale_after=stale_after)
    waited = age(item, now)
    return {
        "hostname": entry.hostname, "customer": entry.customer_id, "id": item.get("id"),
        "status": hostname_status(item), "ssl_status": certificate_status(item),
        "verification_errors": verification_errors(item), "ssl_validation_errors": validation_errors(item),
        "created_at": item.get("created_at"), "age_seconds": int(waited.total_seconds()) if waited else None,
        "age": format_age(waited), "level": assessment.level, "next_step": assessment.next_step,
    }


def _extra(name: str, item: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {"hostname": name, "customer": None, "id": item.get("id"), "status": hostname_status(item),
            "ssl_status": certificate_status(item), "created_at": item.get("created_at"),
            "age": format_age(age(item, now)),
            "next_step": "not in customers.yaml: adopt it with `saas-domains import`, or delete it in Cloudflare"}


def assess_fallback_origin(origin: Mapping[str, Any] | None, expected: str) -> dict[str, Any]:
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


class UnknownCustomer(OperationError):
    """`--customer` names no customer of the file."""


def status(api: CloudflareApi, stack: ZoneStack, *, customer: str | None = None,
           stale_after: timedelta = DEFAULT_STALE_AFTER,
           on_page: Callable[[int, int | None], None] | None = None) -> dict[str, Any]:
    """`saas-domains status`: the report (`attention` True when something needs a person)."""
    declared = _declared(stack, customer)
    zone = zone_id(api, stack.settings)
    live = zone_hostnames(api, zone, stack.settings, on_page=on_page)
    fallback = api.fallback_origin(zone)
    return status_report(stack.name, stack.settings, stack.customers, declared, live, fallback,
                         customer=customer, stale_after=stale_after)


def _declared(stack: ZoneStack, customer: str | None) -> list[CustomerHostname]:
    if customer is None:
        return list(stack.customers.hostnames)
    if customer not in {c.id for c in stack.customers.customers}:
        known = ", ".join(sorted(c.id for c in stack.customers.customers)) or "none"
        raise UnknownCustomer(f"no customer {customer!r} in {stack.shown_path()} (customers: {known})")
    return [h for h in stack.customers.hostnames if h.customer_id == customer]
