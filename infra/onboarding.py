"""Where a customer hostname stands, what comes next, and what the customer must put in DNS.

Pure functions over dicts shaped like the Cloudflare API's custom-hostname JSON (`status`,
`ssl.status`, `ssl.method`, `ssl.validation_records`, `ssl.validation_errors`,
`verification_errors`, `ownership_verification`, `created_at`...), so support's wording can be
tested without a network or the SDK. The states come from Cloudflare for SaaS: hostname
(ownership) validation and certificate (DCV) validation are separate, each with its own status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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


# -- the customer's side of DNS --------------------------------------------------------------------

# Public suffixes with two labels that people register under; without the full Public Suffix List
# (not a dependency here) this covers the common cases and errs towards "not an apex".
_TWO_LABEL_SUFFIXES = frozenset("""
co.uk org.uk me.uk ltd.uk plc.uk net.uk ac.uk gov.uk sch.uk nhs.uk
com.au net.au org.au edu.au gov.au id.au co.nz net.nz org.nz ac.nz govt.nz
co.jp ne.jp or.jp ac.jp go.jp co.kr or.kr ne.kr com.cn net.cn org.cn gov.cn com.hk com.tw com.sg edu.sg
co.in net.in org.in firm.in gen.in com.br net.br org.br com.ar com.mx org.mx com.co com.pe com.uy com.ve
co.za org.za com.tr net.tr org.tr co.il org.il com.my co.id co.th in.th com.ph com.vn com.pk com.bd
com.ua com.pl net.pl org.pl com.es com.pt com.gr com.ro co.at or.at com.eg com.sa com.ng co.ke
""".split())


def registrable_domain(hostname: str) -> str:
    """The domain a customer registered: mail.mkdev.me -> mkdev.me, a.b.example.co.uk -> example.co.uk."""
    labels = hostname.lstrip("*.").split(".")
    keep = 3 if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def is_apex(hostname: str) -> bool:
    """An apex (registrable domain itself) cannot hold a CNAME at most DNS providers."""
    return hostname == registrable_domain(hostname)


@dataclass(frozen=True)
class Record:
    """One record for the customer's DNS (or an HTTP token), with why it matters."""

    type: str
    name: str
    value: str
    required: bool
    purpose: str


@dataclass
class Instructions:
    hostname: str
    customer: str
    cname_target: str
    status: str | None
    ssl_status: str | None
    apex: bool
    records: list[Record] = field(default_factory=list)
    not_yet: list[str] = field(default_factory=list)  # records Cloudflare has not produced yet
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.not_yet

    def as_json(self) -> dict[str, Any]:
        return {
            "hostname": self.hostname, "customer": self.customer, "cname_target": self.cname_target,
            "status": self.status, "ssl_status": self.ssl_status, "apex": self.apex,
            "records": [record.__dict__ for record in self.records],
            "not_yet_available": self.not_yet, "notes": self.notes,
        }


def instructions_for(hostname: str, customer: str, cname_target: str,
                     item: Mapping[str, Any] | None, *, declared_method: str = "http") -> Instructions:
    """What the customer must add, from the live custom hostname (None: not created yet).

    The API's `ssl.method` is optional in its spec: when Cloudflare leaves it out, the method the
    customers file declares stands.
    """
    apex = is_apex(hostname)
    result = Instructions(hostname, customer, cname_target, item and hostname_status(item),
                          item and certificate_status(item), apex)
    result.records.append(_routing_record(hostname, cname_target, apex))
    if apex:
        result.notes.append(
            f"{hostname} is an apex domain, which cannot hold a CNAME record: use your DNS provider's CNAME "
            f"flattening or an ALIAS/ANAME record pointing at {cname_target}. Do not copy its IP addresses "
            "into A records: they change.")
    if item is None:
        result.not_yet.append("the ownership TXT record and any certificate validation records: the hostname "
                              "is not created in Cloudflare yet (it will be by the next `pulumi up`)")
        return result
    _add_ownership_records(result, item)
    _add_certificate_records(result, item, declared_method)
    return result


def _routing_record(hostname: str, cname_target: str, apex: bool) -> Record:
    purpose = ("routes the hostname through our edge; once it is in place the certificate is issued "
               "automatically, usually within minutes")
    if apex:
        return Record("CNAME (flattened) / ALIAS", hostname, cname_target, True, purpose)
    return Record("CNAME", hostname, cname_target, True, purpose)


def _add_ownership_records(result: Instructions, item: Mapping[str, Any]) -> None:
    ownership = item.get("ownership_verification") or {}
    if ownership.get("name") and ownership.get("value"):
        result.records.append(Record("TXT", ownership["name"], ownership["value"], False,
                                     "proves ownership before the CNAME moves, for a switch without downtime"))
    elif hostname_status(item) != "active":
        result.not_yet.append("the ownership TXT record: Cloudflare has not published it yet")


def _add_certificate_records(result: Instructions, item: Mapping[str, Any], declared_method: str) -> None:
    ssl = ssl_of(item)
    method = ssl.get("method") or declared_method
    txt_required = method == "txt"
    for record in ssl.get("validation_records") or []:
        if record.get("txt_name") and record.get("txt_value"):
            result.records.append(Record("TXT", record["txt_name"], record["txt_value"], txt_required,
                                         "lets the certificate authority validate the certificate"))
        if record.get("cname") and record.get("cname_target"):
            result.records.append(Record("CNAME", record["cname"], record["cname_target"], False,
                                         "delegates certificate validation to Cloudflare"))
        if record.get("http_url") and record.get("http_body") and method == "http":
            result.records.append(Record("HTTP", record["http_url"], record["http_body"], False,
                                         "only before the CNAME moves: serve this text at this URL to "
                                         "validate the certificate early"))
        if record.get("emails"):
            result.notes.append("The certificate authority will e-mail " + ", ".join(record["emails"])
                                + ": approve that message.")
    for record in ssl.get("dcv_delegation_records") or []:
        if record.get("cname") and record.get("cname_target"):
            result.records.append(Record("CNAME", record["cname"], record["cname_target"], False,
                                         "lets Cloudflare renew the certificate without new TXT records"))
    has_txt = any(r.get("txt_name") for r in ssl.get("validation_records") or [])
    if txt_required and not has_txt and certificate_status(item) != "active":
        result.not_yet.append("the certificate validation TXT record: Cloudflare publishes it a few minutes "
                              "after the hostname is created; run this command again later")
    if method == "http":
        result.notes.append("With the CNAME in place, the certificate is validated over HTTP: no other "
                            "record is needed.")
    if blocks_ca(item):
        allowed = " and ".join(caa_domains(ssl.get("certificate_authority")))
        result.notes.append(f"A CAA record on your domain blocks our certificate authority: add CAA issue "
                            f"records for {allowed}, or remove the CAA records.")
