"""What `status` (and `check`) make of a custom hostname: where it stands and what comes next.

Pure functions over dicts shaped like the Cloudflare API's custom-hostname JSON (`status`,
`ssl.status`, `ssl.method`, `ssl.validation_records`, `ssl.validation_errors`,
`verification_errors`, `ownership_verification`, `created_at`...), so support's wording can be
tested without a network or the SDK. The states come from Cloudflare for SaaS: hostname
(ownership) validation and certificate (DCV) validation are separate, each with its own status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.model.customers import CustomerHostname, CustomersFile
from infra.model.hostnames import normalise_hostname
from infra.model.settings import StackSettings

LIVE, WAITING, PROBLEM = "live", "waiting", "problem"
# The CAs Cloudflare for SaaS issues from, as the API names them and as CAA records name them.
CA_CAA_DOMAINS = {"google": "pki.goog", "lets_encrypt": "letsencrypt.org", "ssl_com": "ssl.com"}
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
class Diagnosis:
    """How urgent (live / waiting / problem) and the plain-language next step for support."""

    level: str
    next_step: str


def api_hostname(item: Mapping[str, Any]) -> str:
    """The API's hostname in the customers file's canonical form, so both sides compare."""
    raw = str(item.get("hostname", ""))
    try:
        return normalise_hostname(raw, allow_wildcard=True)
    except ValueError:
        return raw.strip().lower().rstrip(".")


def ssl_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("ssl") or {}


def hostname_status(item: Mapping[str, Any]) -> str | None:
    return item.get("status")


def certificate_status(item: Mapping[str, Any]) -> str | None:
    return ssl_of(item).get("status")


def verification_errors(item: Mapping[str, Any]) -> list[str]:
    return [str(e) for e in item.get("verification_errors") or []]


def validation_errors(item: Mapping[str, Any]) -> list[str]:
    """Certificate (DCV) errors; the API gives objects whose `message` the spec makes optional."""
    errors = ssl_of(item).get("validation_errors") or []
    messages = (e.get("message") if isinstance(e, Mapping) else e for e in errors)
    return [str(message) for message in messages if message]


def diagnose(item: Mapping[str, Any], *, cname_target: str, now: datetime | None = None,
             stale_after: timedelta = DEFAULT_STALE_AFTER) -> Diagnosis:
    """The next step for one custom hostname; waiting turns into a problem once it is stale."""
    diagnosis = _diagnose_state(item, cname_target)
    if diagnosis.level != WAITING:
        return diagnosis
    waited = age(item, now)
    if waited is not None and waited > stale_after:
        return Diagnosis(PROBLEM, f"pending for {format_age(waited)} (Cloudflare gives up after "
                                  f"{GIVE_UP_DAYS} days): {diagnosis.next_step}")
    return diagnosis


def _diagnose_state(item: Mapping[str, Any], cname_target: str) -> Diagnosis:
    """Most severe first: the hostname's fate, then certificate blockers, then who we wait for."""
    hostname = item.get("hostname", "the hostname")
    status = hostname_status(item)
    if status == "moved":
        return Diagnosis(PROBLEM, f"moved: the customer's DNS no longer points here; it will be deleted after "
                                  f"{GIVE_UP_DAYS} days unless {hostname} CNAMEs to {cname_target} again")
    if status in _BLOCKED:
        return Diagnosis(PROBLEM, "blocked by Cloudflare (the hostname may be on a blocklist or claimed by "
                                  "another Cloudflare account): contact Cloudflare support")
    if status in _DELETING:
        return Diagnosis(PROBLEM, f"being deleted in Cloudflare ({status}); `pulumi up` recreates it once "
                                  "it is gone if customers.yaml still lists it")
    if status == "test_failed":
        return Diagnosis(PROBLEM, "Cloudflare's pre-activation test failed: run `saas-domains check "
                                  f"{hostname}` and fix the customer's DNS")
    if blocks_ca(item):
        return Diagnosis(PROBLEM, "CAA record blocks the CA: the customer must allow the certificate "
                                  f"authority in their CAA records (`saas-domains check {hostname}` shows which)")
    certificate = _certificate_step(item, cname_target)
    if certificate is not None and certificate.level == PROBLEM:
        return certificate
    if status == "active":
        return certificate or Diagnosis(LIVE, "live")
    if status == "pending":
        return Diagnosis(WAITING, _waiting_for_customer(item, cname_target))
    return Diagnosis(WAITING, f"Cloudflare is provisioning the hostname ({status or 'no status yet'})")


def _certificate_step(item: Mapping[str, Any], cname_target: str) -> Diagnosis | None:
    """None when the certificate is active; otherwise what it waits for or what broke."""
    ssl_status, hostname = certificate_status(item), item.get("hostname", "the hostname")
    if ssl_status == "active":
        return None
    if ssl_status and ssl_status.endswith("_timed_out") and ssl_status != "deletion_timed_out":
        phase = ssl_status[: -len("_timed_out")]
        return Diagnosis(PROBLEM, f"certificate {phase} timed out: fix the customer's DNS (`saas-domains check "
                                  f"{hostname}`), then restart validation by sending the same ssl settings "
                                  "again (PATCH the custom hostname, or Refresh in the dashboard)")
    if ssl_status == "expired":
        return Diagnosis(PROBLEM, "certificate expired: renewal failed; check the customer's CNAME and CAA "
                                  f"records (`saas-domains check {hostname}`)")
    if ssl_status in _SSL_REMOVING:
        return Diagnosis(PROBLEM, f"certificate is being removed ({ssl_status})")
    if ssl_status in _SSL_WAITING:
        return Diagnosis(WAITING, _SSL_WAITING[ssl_status])
    if ssl_status == "pending_validation":
        return Diagnosis(WAITING, _waiting_for_validation(item, cname_target))
    return Diagnosis(WAITING, f"certificate status {ssl_status or 'unknown'}: waiting for Cloudflare")


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


def caa_domains(certificate_authority: str | None) -> list[str]:
    """The CAA issuer domains to allow: the chosen CA's, or all Cloudflare may choose from."""
    if certificate_authority in CA_CAA_DOMAINS:
        return [CA_CAA_DOMAINS[certificate_authority]]
    return list(CA_CAA_DOMAINS.values())


def blocks_ca(item: Mapping[str, Any]) -> bool:
    """Cloudflare reports a CAA refusal among the certificate's validation errors."""
    return any("caa" in message.lower() for message in validation_errors(item))


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
    from infra.operations.reshard import bare, custom_hostname_urn

    targets = " ".join(f"--target '{custom_hostname_urn(bare(stack), h)}'" for h in hostnames)
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
    diagnosis = diagnose(item, cname_target=target, now=now, stale_after=stale_after)
    waited = age(item, now)
    return {
        "hostname": entry.hostname, "customer": entry.customer_id, "id": item.get("id"),
        "status": hostname_status(item), "ssl_status": certificate_status(item),
        "verification_errors": verification_errors(item), "ssl_validation_errors": validation_errors(item),
        "created_at": item.get("created_at"), "age_seconds": int(waited.total_seconds()) if waited else None,
        "age": format_age(waited), "level": diagnosis.level, "next_step": diagnosis.next_step,
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


# -- time ----------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(item: Mapping[str, Any], now: datetime | None = None) -> timedelta | None:
    created = parse_time(item.get("created_at"))
    if created is None:
        return None
    return max(timedelta(0), (now or datetime.now(UTC)) - created)


def format_age(span: timedelta | None) -> str:
    """'12d 3h', '5h 20m', '7m': two units are enough for a support table."""
    if span is None:
        return "?"
    minutes = int(span.total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"
