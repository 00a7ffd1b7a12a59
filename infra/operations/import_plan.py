"""Adopting custom hostnames made by hand, planned: new customers.yaml entries and a `pulumi import` file.

Pure (no SDK, no network, no file written: infra/operations/import_.py does those): it takes the
customers file's text and the API's custom-hostname dicts. The file is edited with ruamel.yaml's round
trip (`import_editor.py`) so comments, order and quoting survive, and the result goes through the same
validation as the program before anyone writes it. Each imported hostname gets the SSL settings (read
where the SSL-field table says the API keeps them), metadata and origin it has in Cloudflare where the
file can express them, so the next `pulumi up` adopts it instead of changing it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.errors import OperationError
from infra.model.customers import (
    CustomerHostname,
    CustomersFileError,
    EntryOverrides,
    ValidationRules,
    parse_customers,
)
from infra.model.customers.ssl_fields import NAMES, SSL_FIELD, SSL_FIELDS
from infra.model.hostnames import in_zone, label_from, normalise_hostname, registrable_domain
from infra.model.names import (
    CUSTOM_HOSTNAME_RESOURCE,
    CUSTOMER_HOSTNAMES_TYPE,
    CUSTOMERS,
    DNS_RECORD_RESOURCE,
    EDGE,
    EDGE_TYPE,
    FALLBACK_IPV6_RECORD,
    FALLBACK_ORIGIN_RESOURCE,
    FALLBACK_RECORD,
    WILDCARD_RECORD,
    child,
)
from infra.model.names import FALLBACK_ORIGIN as FALLBACK_ORIGIN_CHILD
from infra.model.settings import ALB_ORIGIN, CLOUD_RUN_ORIGIN, EXTERNAL_ORIGIN
from infra.operations.custom_hostname_fields import api_hostname
from infra.operations.import_editor import CustomersEditor

HOSTNAMES_COMPONENT = (CUSTOMER_HOSTNAMES_TYPE, CUSTOMERS)
EDGE_COMPONENT = (EDGE_TYPE, EDGE)
CUSTOM_HOSTNAME_TYPE = CUSTOM_HOSTNAME_RESOURCE
FALLBACK_ORIGIN = (FALLBACK_ORIGIN_RESOURCE, child(EDGE, FALLBACK_ORIGIN_CHILD))
DNS_RECORD_TYPE = DNS_RECORD_RESOURCE
# The Edge component's records that every origin declares: the fallback record, then the customer wildcard.
EDGE_RECORDS = (child(EDGE, FALLBACK_RECORD), child(EDGE, WILDCARD_RECORD))
# What `import` looks up for each origin: (resource name, which name, record type). The ALB's fallback
# record is a CNAME to its DNS name; the Cloud Run origin's are an A and an AAAA record holding the load
# balancer's global addresses (infra/components/edge.py).
FALLBACK, WILDCARD = "fallback", "wildcard"
EDGE_RECORD_LOOKUPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    ALB_ORIGIN: ((EDGE_RECORDS[0], FALLBACK, "CNAME"),
                 (EDGE_RECORDS[1], WILDCARD, "CNAME")),
    EXTERNAL_ORIGIN: ((EDGE_RECORDS[0], FALLBACK, "CNAME"),  # a CNAME to originHostname
                      (EDGE_RECORDS[1], WILDCARD, "CNAME")),
    CLOUD_RUN_ORIGIN: ((EDGE_RECORDS[0], FALLBACK, "A"),
                       (child(EDGE, FALLBACK_IPV6_RECORD), FALLBACK, "AAAA"),
                       (EDGE_RECORDS[1], WILDCARD, "CNAME")),
}
GROUP_RULES = ("registrable-domain", "hostname", "metadata:KEY")
GONE = {"pending_deletion", "deleted"}


class GroupingError(OperationError, ValueError):
    """The grouping rule or customer id cannot be used."""


@dataclass(frozen=True)
class Adopted:
    hostname: str
    customer: str
    id: str
    new_customer: bool


@dataclass
class ImportPlan:
    text: str  # the customers file after the import (the same text when nothing is added)
    adopted: list[Adopted] = field(default_factory=list)
    already_declared: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (hostname, why)
    differences: list[str] = field(default_factory=list)  # what the next `pulumi up` will change

    @property
    def changed(self) -> bool:
        return bool(self.adopted)


# -- what Cloudflare has, in the file's terms ----------------------------------------------------------


def live_ssl(item: Mapping[str, Any]) -> dict[str, Any]:
    """The file's ssl keys with the values the API reports (keys it leaves out are left out)."""
    ssl = item.get("ssl") or {}
    found = {}
    for row in SSL_FIELDS:
        value: Any = ssl
        for part in row.api_path:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            found[row.key] = tuple(value) if row.kind == NAMES else value
    return found


def _expressible(key: str, value: Any) -> bool:
    allowed = SSL_FIELD[key].allowed
    return allowed is None or value in allowed


def _differs(key: str, live: Any, declared: Any) -> bool:
    """Null in the file can mean Cloudflare's choice (the certificate authority): whatever it chose matches."""
    return declared != live and not (SSL_FIELD[key].null_matches_any and declared is None)


def needed_overrides(item: Mapping[str, Any], defaults: CustomerHostname) -> EntryOverrides:
    """Overrides that make the file give this hostname what it has in Cloudflare (when allowed)."""
    base = dataclasses.asdict(defaults.ssl)
    ssl = tuple((k, v) for k, v in live_ssl(item).items() if _differs(k, v, base.get(k)) and _expressible(k, v))
    metadata = {str(k): str(v) for k, v in (item.get("custom_metadata") or {}).items()}
    own_metadata = tuple((k, v) for k, v in sorted(metadata.items()) if defaults.metadata_dict.get(k) != v)
    origin = item.get("custom_origin_server") or None
    return EntryOverrides(ssl, own_metadata, origin if origin and origin != defaults.origin else None)


def differences(entry: CustomerHostname, item: Mapping[str, Any]) -> list[str]:
    """What `pulumi up` will change on an adopted hostname because the file says otherwise."""
    base = dataclasses.asdict(entry.ssl)
    found = [f"{entry.hostname}: ssl.{k} is {v!r} in Cloudflare, the file gives {base[k]!r}"
             for k, v in live_ssl(item).items() if _differs(k, v, base.get(k))]
    metadata = {str(k): str(v) for k, v in (item.get("custom_metadata") or {}).items()}
    if metadata != entry.metadata_dict:
        found.append(f"{entry.hostname}: metadata is {metadata} in Cloudflare, the file gives {entry.metadata_dict}")
    origin = item.get("custom_origin_server") or None
    if origin != entry.origin:
        found.append(f"{entry.hostname}: origin is {origin} in Cloudflare, the file gives {entry.origin}")
    return found


# -- grouping ------------------------------------------------------------------------------------------


def customer_id_from(text: str) -> str:
    """A DNS-label id from a domain or a metadata value: 'mkdev.me' -> 'mkdev-me'."""
    return label_from(text)


def group_name(hostname: str, item: Mapping[str, Any], rule: str) -> str:
    if rule == "hostname":
        return customer_id_from(hostname.lstrip("*."))
    if rule.startswith("metadata:"):
        value = (item.get("custom_metadata") or {}).get(rule.split(":", 1)[1])
        if value and customer_id_from(str(value)):
            return customer_id_from(str(value))
    return customer_id_from(registrable_domain(hostname))


def check_rule(rule: str) -> None:
    if rule in ("registrable-domain", "hostname") or (rule.startswith("metadata:") and len(rule) > len("metadata:")):
        return
    raise GroupingError(f"unknown grouping rule {rule!r}; use one of {', '.join(GROUP_RULES)}")


# -- planning --------------------------------------------------------------------------------------------


def plan_import(text: str, path: str, rules: ValidationRules, live: Sequence[Mapping[str, Any]], *,
                group_by: str = "registrable-domain", customer: str | None = None) -> ImportPlan:
    """The edited file and what it adopts; raises CustomersFileError if either file is invalid."""
    check_rule(group_by)
    if customer is not None and customer_id_from(customer) != customer:
        raise GroupingError(f"--customer {customer!r} is not a valid id (a DNS label such as "
                           f"{customer_id_from(customer) or 'acme'!r})")
    current = parse_customers(text, rules, path=path)
    declared = {h.hostname for h in current.hostnames}
    plan = ImportPlan(text)
    candidates: dict[str, Mapping[str, Any]] = {}
    for item in live:
        name, why = _candidate(item, rules)
        if name is None:
            plan.skipped.append((str(item.get("hostname")), why))
        elif name in declared:
            plan.already_declared.append(name)
        else:
            candidates.setdefault(name, item)
    if not candidates:
        return plan

    defaults = CustomersEditor(text).defaults_probe(rules, path)
    existing = {c.id for c in current.customers}
    groups = _groups(candidates, defaults, group_by, customer, existing)
    try:
        _adopt(plan, text, groups, existing, candidates, rules, path)
    except CustomersFileError:
        # Some hostname has settings in Cloudflare the file cannot hold (a custom origin that is no
        # hostname, a wildcard certificate over HTTP...): leave those out, with why, adopt the rest.
        new = {overrides for (customer_id, overrides) in groups if customer_id not in existing}
        refused = _refused(text, new, rules, path)
        if not refused:
            raise
        for (customer_id, overrides), names in list(groups.items()):
            if customer_id not in existing and overrides in refused:
                plan.skipped += [(name, "its settings in Cloudflare cannot be written in the customers file: "
                                  + refused[overrides]) for name in names]
                del groups[(customer_id, overrides)]
        plan.adopted, plan.text = [], text
        if groups:
            _adopt(plan, text, groups, existing, candidates, rules, path)
    return plan


def _adopt(plan: ImportPlan, text: str, groups: Mapping[tuple[str, EntryOverrides], list[str]], existing: set[str],
           candidates: Mapping[str, Mapping[str, Any]], rules: ValidationRules, path: str) -> None:
    """Write the groups into the file's text; raises CustomersFileError if the result is invalid."""
    editor = CustomersEditor(text)
    adopted = []
    for (customer_id, overrides), names in sorted(groups.items(), key=lambda group: group[0][0]):
        new = customer_id not in existing
        editor.add(customer_id, names, overrides if new else None)
        adopted += [Adopted(n, customer_id, str(candidates[n].get("id")), new) for n in names]
    edited = editor.dump()
    result = parse_customers(edited, rules, path=path)  # refuse to write anything invalid
    entries = {h.hostname: h for h in result.hostnames}
    plan.adopted, plan.text = adopted, edited
    for entry in adopted:
        plan.differences += differences(entries[entry.hostname], candidates[entry.hostname])


def _refused(text: str, candidates: set[EntryOverrides], rules: ValidationRules,
             path: str) -> dict[EntryOverrides, str]:
    """The overrides a new customer entry cannot have, each with the validation's reason."""
    refused = {}
    for overrides in candidates:
        probe = CustomersEditor(text)
        probe.add(CustomersEditor.PROBE_ID, [CustomersEditor.PROBE_HOSTNAME], overrides)
        try:
            parse_customers(probe.dump(), rules, path=path)
        except CustomersFileError as err:
            refused[overrides] = "; ".join(problem.message for problem in err.problems)
    return refused


def _candidate(item: Mapping[str, Any], rules: ValidationRules) -> tuple[str | None, str]:
    """The hostname in canonical form, or None and why the file could not hold it."""
    raw = str(item.get("hostname") or "")
    if item.get("status") in GONE:
        return None, f"being deleted in Cloudflare ({item.get('status')})"
    try:
        name = normalise_hostname(raw, allow_wildcard=True)
    except ValueError as err:
        return None, f"not a hostname the customers file accepts: {err}"
    if in_zone(name, rules.zone):
        return None, f"inside the SaaS zone {rules.zone}"
    if name.startswith("*.") and not rules.allow_wildcards:
        return None, "a wildcard hostname; enable saas-domains:allowWildcards to adopt it"
    return name, ""


def _groups(candidates: Mapping[str, Mapping[str, Any]], defaults: CustomerHostname, rule: str,
            customer: str | None, existing: set[str]) -> dict[tuple[str, EntryOverrides], list[str]]:
    """Customer id -> hostnames; a new customer is split (id-2, id-3...) where overrides differ."""
    by_base: dict[str, dict[EntryOverrides, list[str]]] = {}
    for name in sorted(candidates):
        base = customer or group_name(name, candidates[name], rule)
        overrides = needed_overrides(candidates[name], defaults)
        by_base.setdefault(base, {}).setdefault(overrides, []).append(name)
    taken = set(existing)
    groups: dict[tuple[str, EntryOverrides], list[str]] = {}
    for base, variants in by_base.items():
        if base in existing or (customer and len(variants) > 1):
            # an existing customer (or one the user named) takes them all; differences get reported
            groups[(base, _common(variants) if base not in existing else EntryOverrides())] = \
                sorted(n for names in variants.values() for n in names)
            taken.add(base)
            continue
        # the largest variant (the one without overrides on a tie) keeps the plain id
        for overrides, names in sorted(variants.items(), key=lambda v: (-len(v[1]), _count(v[0]))):
            customer_id = _free_id(base, taken)
            taken.add(customer_id)
            groups[(customer_id, overrides)] = names
    return groups


def _count(overrides: EntryOverrides) -> int:
    return len(overrides.ssl) + len(overrides.metadata) + (overrides.origin is not None)


def _common(variants: Mapping[EntryOverrides, list[str]]) -> EntryOverrides:
    """Overrides shared by every variant (one entry cannot give its hostnames different ones)."""
    sets = list(variants)
    ssl = tuple(pair for pair in sets[0].ssl if all(pair in s.ssl for s in sets))
    metadata = tuple(pair for pair in sets[0].metadata if all(pair in s.metadata for s in sets))
    origin = sets[0].origin if all(s.origin == sets[0].origin for s in sets) else None
    return EntryOverrides(ssl, metadata, origin)


def _free_id(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    number = 2
    while f"{base[:60]}-{number}" in taken:
        number += 1
    return f"{base[:60]}-{number}"


# -- the pulumi import file ----------------------------------------------------------------------------------


def import_file(zone_id: str, hostnames: Sequence[tuple[str, str]], *, fallback_origin: bool = False,
                records: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`pulumi import --file` input naming resources exactly as the program declares them.

    The two components are listed with `component: true` and referred to by name: Pulumi (3.94+)
    creates them when the stack does not have them yet and leaves them alone when it does, so the
    same file works for a new stack and for one already deployed.
    """
    resources: list[dict[str, Any]] = []
    if hostnames:
        resources.append(_component(*HOSTNAMES_COMPONENT))
        resources += [{"type": CUSTOM_HOSTNAME_TYPE, "name": name, "id": f"{zone_id}/{hostname_id}",
                       "parent": HOSTNAMES_COMPONENT[1]} for name, hostname_id in hostnames]
    edge = []
    if fallback_origin:
        edge.append({"type": FALLBACK_ORIGIN[0], "name": FALLBACK_ORIGIN[1], "id": zone_id,
                     "parent": EDGE_COMPONENT[1]})
    edge += [{"type": DNS_RECORD_TYPE, "name": name, "id": f"{zone_id}/{record_id}", "parent": EDGE_COMPONENT[1]}
             for name, record_id in (records or {}).items()]
    if edge:
        resources += [_component(*EDGE_COMPONENT), *edge]
    return {"resources": resources}


def _component(type_token: str, name: str) -> dict[str, Any]:
    return {"type": type_token, "name": name, "component": True}


# -- what to import ---------------------------------------------------------------------------------------


def hostnames_to_import(plan: ImportPlan, live: Sequence[Mapping[str, Any]], *,
                        only_new: bool) -> list[tuple[str, str]]:
    """(hostname, id) for the import file: this run's adoptions, plus by default every declared one
    Cloudflare has (`pulumi import` leaves those already in the stack alone, so a rerun loses nothing)."""
    adopted = [(a.hostname, a.id) for a in plan.adopted]
    if only_new:
        return adopted
    ids = {api_hostname(item): str(item.get("id")) for item in live}
    return sorted(adopted + [(name, ids[name]) for name in plan.already_declared])
