"""`saas-domains instructions`: what a customer must put in DNS, read from the live custom hostname.

The CNAME comes from the stack; the ownership TXT and certificate-validation records come live from
the API, because Cloudflare makes them when the hostname is created (and the certificate records only
some minutes later). What is not there yet is listed in `not_yet`, so support runs it again before
sending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infra.errors import OperationError
from infra.model.customers import CustomerHostname
from infra.model.hostnames import is_apex, normalise_hostname
from infra.model.settings import StackSettings
from infra.operations.custom_hostname_fields import (
    api_hostname,
    blocks_ca,
    caa_domains,
    certificate_status,
    hostname_status,
    ssl_of,
)
from infra.operations.zone import ZoneStack, zone_id

if TYPE_CHECKING:
    from infra.clients.cloudflare import CloudflareApi


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


class NotACustomerOrHostname(OperationError):
    """What `instructions` was asked for is neither a customer id nor a declared hostname."""


def select_hostnames(stack: ZoneStack, target: str) -> list[CustomerHostname]:
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
        raise NotACustomerOrHostname(f"{target!r} is neither a customer id nor a hostname in {stack.shown_path()}")
    return [entry]


def instructions(api: CloudflareApi, stack: ZoneStack, target: str) -> list[Instructions]:
    """The instructions for a customer's hostnames, or one hostname's (`target` is either)."""
    entries = select_hostnames(stack, target)
    return live_instructions(api, zone_id(api, stack.settings), entries, stack.settings)


def live_instructions(api: CloudflareApi, zone_id: str, entries: Sequence[CustomerHostname],
                      settings: StackSettings) -> list[Instructions]:
    """The instructions for each declared hostname, from its live custom hostname.

    One filtered request per hostname: a customer has a handful, and a listing of the zone would cost
    a request per 1,000 hostnames.
    """
    results = []
    for entry in entries:
        live = api.custom_hostnames(zone_id, hostname=entry.hostname)
        item = next((i for i in live if api_hostname(i) == entry.hostname), None)
        results.append(instructions_for(entry.hostname, entry.customer_id, settings.cname_target(entry.customer_id),
                                        item, declared_method=entry.ssl.method))
    return results


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
                              "is not in Cloudflare (not created yet, or deleted by Cloudflare after 7 days "
                              "pending or moved); a TXT value sent before no longer counts. `saas-domains status` "
                              "says how to create it again; run this command after that")
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


def needed(required: bool) -> str:
    return "required" if required else "optional"
