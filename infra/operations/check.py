"""A customer hostname's DNS as a public resolver sees it, judged against what Cloudflare needs.

Four questions support asks when "the domain does not work": does the hostname CNAME (possibly
through a chain) to the customer's target, do stray A/AAAA records send visitors elsewhere, do
CAA records allow the certificate authority, and are the ownership / certificate TXT records
present and right. Each answer is a Finding with ok / warn / fail / info and a sentence to act on.
A hostname that does not exist is the customer's missing record only if the resolver knows a name
that must exist (the SaaS zone): a resolver that denies that too is reported as the problem instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.clients.environment import Clients
from infra.clients.resolver import Lookup
from infra.errors import OperationError
from infra.model.settings import StackSettings
from infra.operations.custom_hostname_fields import (
    CA_CAA_DOMAINS,
    api_hostname,
    certificate_status,
    hostname_status,
    ssl_of,
)
from infra.operations.zone import ZoneStack, zone_id

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"


class NotDeclared(OperationError):
    """The hostname is not in the customers file and no target was given to check it against."""


@dataclass(frozen=True)
class ResolverChoice:
    """Which resolver to ask (address None: the system's) and how long one query may take."""

    address: str | None
    port: int = 53
    timeout: float = 3.0


def check_hostname(clients: Clients, stack: ZoneStack, hostname: str, resolver: ResolverChoice, *,
                   target: str | None = None, ask_cloudflare: bool = True) -> dict[str, Any]:
    """`saas-domains check`: the hostname's DNS judged, as a report (`ok` False when a check fails).

    The CNAME target and the CA come from the stack; the TXT values from Cloudflare when asked and
    reachable. The API request and every DNS query share the command's deadline (the clients' budget).
    """
    entry = stack.declared(hostname)
    if entry is None and not target:
        raise NotDeclared(f"{hostname} is not in {stack.shown_path()}; pass --target to check it anyway")
    target = target or stack.settings.cname_target(entry.customer_id)
    lookup = clients.resolver(resolver.address, resolver.port, resolver.timeout)
    if ask_cloudflare:
        item, api_note = cloudflare_view(clients, stack.settings, hostname)
    else:
        item, api_note = {}, Finding("cloudflare", INFO, "not asked (--no-api)")
    expect = expectations(hostname, target, entry.ssl.certificate_authority if entry else None, item,
                          declared_method=entry.ssl.method if entry else None, zone=stack.settings.zone)
    findings = judge_dns(lookup, expect) + [api_note]
    return {"hostname": hostname, "customer": entry.customer_id if entry else None, "target": target,
            "resolver": lookup.where, "findings": [f.__dict__ for f in findings], "ok": passes(findings)}


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Expectations:
    """What Cloudflare needs for this hostname, from the stack and (when reachable) the API."""

    hostname: str
    target: str
    zone: str | None = None  # the SaaS zone: a name that exists, to tell a broken resolver from a missing record
    certificate_authority: str | None = None  # as configured in customers.yaml
    chosen_authority: str | None = None  # what Cloudflare reports for the current order
    ownership_txt: tuple[str, str] | None = None  # (name, value) from the API
    certificate_txt: tuple[tuple[str, str], ...] = ()
    certificate_txt_required: bool = False
    compared_with_cloudflare: bool = False


def judge_dns(lookup: Lookup, expect: Expectations) -> list[Finding]:
    hostname = expect.hostname
    chain = lookup.cname_chain(hostname)
    if not chain and not lookup.exists(hostname):
        if expect.zone and not lookup.exists(expect.zone):  # before blaming the customer, a name that must exist
            raise lookup.denies_everything(hostname, expect.zone)
        return [Finding("cname", FAIL, f"{hostname} does not exist in DNS (NXDOMAIN): the customer has not "
                                       f"added the record yet: {hostname} CNAME {expect.target}")]
    findings = [check_target(lookup, expect.target)]
    if findings[0].status == OK:
        findings += check_routing(lookup, hostname, expect.target, chain)
    findings.append(check_caa(lookup, expect))
    findings.append(check_ownership(lookup, expect))
    findings += check_certificate_txt(lookup, expect)
    return findings


def check_target(lookup: Lookup, target: str) -> Finding:
    """Our side first: the wildcard record must make every customer target resolve."""
    found = lookup.addresses(target)
    if found["A"] or found["AAAA"]:
        return Finding("target", OK, f"{target} resolves ({_show(found)})", {"addresses": _listed(found)})
    return Finding("target", FAIL, f"{target} does not resolve: the zone's wildcard record is missing or not "
                                   "proxied; run `pulumi up`")


def check_routing(lookup: Lookup, hostname: str, target: str, chain: Sequence[str]) -> list[Finding]:
    """The CNAME (chain) to the target, or flattening at an apex, and no stray addresses."""
    if target in chain:
        path = " → ".join([hostname, *chain[: chain.index(target) + 1]])
        return [Finding("cname", OK, f"CNAME chain reaches the target: {path}", {"chain": list(chain)})]
    if chain:
        return [Finding("cname", FAIL, f"{hostname} is a CNAME to {chain[-1]} (chain: {' → '.join(chain)}), not "
                                       f"to {target}: point it at {target}", {"chain": list(chain)})]
    theirs, ours = lookup.addresses(hostname), lookup.addresses(target)
    stray = {family: theirs[family] - ours[family] for family in theirs}
    flattened = any(theirs[f] & ours[f] for f in theirs)
    apex = lookup.is_zone_apex(hostname)
    if flattened and apex:
        routing = Finding("cname", OK, f"{hostname} is an apex with CNAME flattening/ALIAS to the target "
                                       "(its addresses are the target's)", {"apex": True})
    elif flattened:
        routing = Finding("cname", WARN, f"no CNAME, but {hostname} has the target's addresses (flattened or "
                                         f"copied?): a CNAME to {target} keeps working when the addresses change",
                          {"apex": False})
    elif apex:
        routing = Finding("cname", FAIL, f"{hostname} is an apex domain, which cannot hold a CNAME: the customer "
                                         f"needs CNAME flattening or an ALIAS/ANAME record to {target}", {"apex": True})
    elif theirs["A"] or theirs["AAAA"]:
        routing = Finding("cname", FAIL, f"no CNAME: {hostname} has its own addresses ({_show(theirs)}); "
                                         f"replace them with {hostname} CNAME {target}", {"apex": False})
    else:
        routing = Finding("cname", FAIL, f"no CNAME and no address for {hostname}: add {hostname} CNAME {target}",
                          {"apex": False})
    return [routing, _address_finding(stray)]


def _address_finding(stray: dict[str, set[str]]) -> Finding:
    if not (stray["A"] or stray["AAAA"]):
        return Finding("addresses", OK, "no conflicting A/AAAA records")
    return Finding("addresses", FAIL, f"conflicting {_show(stray)}: these addresses are not Cloudflare's for the "
                                      "target, so visitors using them bypass it; remove them",
                   {"stray": _listed(stray)})


def check_caa(lookup: Lookup, expect: Expectations) -> Finding:
    owner, records = lookup.caa(expect.hostname)
    wildcard = expect.hostname.startswith("*.")
    if not records:
        return Finding("caa", OK, "no CAA records on the hostname or its parents: any CA may issue")
    if any(r.flags & 128 and r.tag.decode().lower() not in ("issue", "issuewild", "iodef") for r in records):
        return Finding("caa", FAIL, f"CAA at {owner} has an unknown critical tag: no CA may issue; remove it")
    tags = ("issuewild", "issue") if wildcard else ("issue",)
    relevant = next(([r for r in records if r.tag.decode().lower() == t] for t in tags
                     if any(r.tag.decode().lower() == t for r in records)), [])
    if not relevant:
        return Finding("caa", OK, f"CAA at {owner} restricts no issuer")
    allowed = {r.value.decode().split(";")[0].strip().lower() for r in relevant} - {""}
    wanted = _wanted_domains(expect)
    missing = [d for d in wanted if d not in allowed]
    shown = ", ".join(sorted(allowed)) or "no CA at all"
    details = {"owner": owner, "allowed": sorted(allowed), "needed": wanted}
    add = "; ".join(f'{owner} CAA 0 {tags[0]} "{d}"' for d in missing)
    chosen = CA_CAA_DOMAINS.get(expect.chosen_authority or "")
    if len(missing) == len(wanted) or (chosen and chosen not in allowed and chosen in wanted):
        return Finding("caa", FAIL, f"CAA record blocks the CA: {owner} allows only {shown}; add {add}", details)
    if missing:
        return Finding("caa", WARN, f"CAA at {owner} allows {shown}; Cloudflare may pick another CA at renewal: "
                                    f"add {add}", details)
    return Finding("caa", OK, f"CAA at {owner} allows {', '.join(wanted)}", details)


def _wanted_domains(expect: Expectations) -> list[str]:
    if expect.certificate_authority in CA_CAA_DOMAINS:
        return [CA_CAA_DOMAINS[expect.certificate_authority]]
    return list(CA_CAA_DOMAINS.values())


def check_ownership(lookup: Lookup, expect: Expectations) -> Finding:
    """The pre-validation TXT is optional; wrong is worse than absent (a stale token)."""
    name = f"_cf-custom-hostname.{expect.hostname.lstrip('*.')}"
    values = lookup.texts(name)
    if expect.ownership_txt is None:
        if not expect.compared_with_cloudflare:
            state = f"holds {', '.join(values)}" if values else "is absent"
            return Finding("ownership_txt", INFO, f"{name} {state} (not compared with Cloudflare's token: no API "
                                                  "access)", {"name": name, "found": values})
        return Finding("ownership_txt", INFO, f"{name}: Cloudflare has no ownership token for this hostname",
                       {"name": name, "found": values})
    expected_name, expected = expect.ownership_txt
    details = {"name": expected_name, "found": values, "expected": expected}
    if expected in values:
        return Finding("ownership_txt", OK, f"{expected_name} TXT holds Cloudflare's token", details)
    if values:
        return Finding("ownership_txt", FAIL, f"{expected_name} TXT holds {', '.join(values)}, but Cloudflare "
                                              f"expects {expected} (a stale token from an earlier hostname?)", details)
    return Finding("ownership_txt", INFO, f"{expected_name} TXT is absent (optional: it only pre-validates "
                                          "ownership before the CNAME moves)", details)


def check_certificate_txt(lookup: Lookup, expect: Expectations) -> list[Finding]:
    findings = []
    for name, value in expect.certificate_txt:
        values = lookup.texts(name)
        details = {"name": name, "found": values, "expected": value}
        if value in values:
            findings.append(Finding("certificate_txt", OK, f"{name} TXT holds the validation token", details))
        else:
            status = FAIL if expect.certificate_txt_required else INFO
            state = f"holds {', '.join(values)}" if values else "is absent"
            findings.append(Finding("certificate_txt", status, f"{name} TXT {state}; the certificate authority "
                                                               f"expects {value}", details))
    return findings


def cloudflare_view(clients: Clients, settings: StackSettings, hostname: str) -> tuple[dict[str, Any], Finding]:
    """The custom hostname as Cloudflare has it ({} when unknown or unreadable) and a finding saying so.

    One filtered API request, for the TXT values to compare; without a token or when the API fails,
    the DNS is still judged, only less precisely (within the same command deadline).
    """
    from infra.clients.cloudflare import CloudflareApiError, MissingTokenError

    try:
        api = clients.cloudflare()
        live = api.custom_hostnames(zone_id(api, settings), hostname=hostname)
    except MissingTokenError:
        return {}, Finding("cloudflare", INFO, "no CLOUDFLARE_API_TOKEN: TXT values not compared with Cloudflare's")
    except CloudflareApiError as err:
        return {}, Finding("cloudflare", WARN, f"could not read Cloudflare ({err}): TXT values not compared")
    item = next((i for i in live if api_hostname(i) == hostname), None)
    if item is None:
        return {}, Finding("cloudflare", WARN, f"{hostname} is not a custom hostname in Cloudflare yet (`pulumi up`)")
    return item, Finding("cloudflare", INFO, f"hostname {hostname_status(item) or 'status not reported'}, "
                                             f"certificate {certificate_status(item) or 'status not reported'}",
                         {"id": item.get("id")})


def expectations(hostname: str, target: str, configured_ca: str | None, item: dict[str, Any], *,
                 declared_method: str | None = None, zone: str | None = None) -> Expectations:
    """The API's values where it gives them; its spec leaves ssl.method optional (then the file's stands)."""
    ssl = ssl_of(item)
    ownership = item.get("ownership_verification") or {}
    txt = tuple((r["txt_name"], r["txt_value"]) for r in ssl.get("validation_records") or []
                if r.get("txt_name") and r.get("txt_value"))
    return Expectations(
        hostname=hostname, target=target, zone=zone, certificate_authority=configured_ca,
        chosen_authority=ssl.get("certificate_authority"),
        ownership_txt=(ownership["name"], ownership["value"]) if ownership.get("name") and ownership.get("value")
        else None,
        certificate_txt=txt, certificate_txt_required=(ssl.get("method") or declared_method) == "txt",
        compared_with_cloudflare=bool(item))


def failing_and_warnings(report: dict[str, Any]) -> tuple[int, int]:
    """How many checks of a report fail, and how many warn."""
    statuses = [f["status"] for f in report["findings"]]
    return statuses.count(FAIL), statuses.count(WARN)


def passes(findings: Sequence[Finding]) -> bool:
    """Warnings and notes are allowed; one failing check is not."""
    return not any(f.status == FAIL for f in findings)


def _listed(found: dict[str, set[str]]) -> dict[str, list[str]]:
    return {family: sorted(values) for family, values in found.items()}


def _show(found: dict[str, set[str]]) -> str:
    return "; ".join(f"{family} {', '.join(sorted(v))}" for family, v in found.items() if v) or "nothing"
