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

from infra.model.settings import StackSettings
from infra.operations.network_limits import Budget
from infra.operations.status import CA_CAA_DOMAINS, api_hostname, certificate_status, hostname_status, ssl_of

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
MAX_CNAME_HOPS = 10


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class ResolverFailure(Exception):
    """The resolver did not answer (timeout, SERVFAIL, refused, garbage): the DNS cannot be judged."""


class ResolverDeniesEverything(ResolverFailure):
    """The resolver says NXDOMAIN for a name that must exist too (the SaaS zone): its "no such name" for the
    customer's hostname says nothing about the customer's DNS."""

    def __init__(self, hostname: str, known: str) -> None:
        super().__init__(f"it answers NXDOMAIN (no such name) for {hostname} and also for {known}, the SaaS zone, "
                         "which exists: the resolver is the problem, not the customer's DNS (a filtering or "
                         "split-horizon resolver, or a network that answers every name itself?)")
        self.hostname, self.known = hostname, known


class Lookup:
    """The few queries the diagnosis needs, over a dnspython resolver; NXDOMAIN reads as "nothing".

    Each query may take the resolver's `lifetime` in all (dnspython's total for one question, retries
    and servers included), never more than what is left of the command's `budget`.
    """

    def __init__(self, resolver: Any, budget: Budget | None = None) -> None:
        self.resolver = resolver
        self.budget = budget
        self.lifetime = resolver.lifetime

    def _answer(self, name: str, rdtype: str) -> Any | None:
        """The resolver's answer (possibly empty), None for NXDOMAIN; no answer at all is a failure."""
        import dns.exception
        import dns.resolver

        question = f"{name} {rdtype}"
        if self.budget is not None:
            left = self.budget.remaining()
            if left <= 0:
                raise ResolverFailure(f"the resolver gave no answer for {question}: {self.budget.deadline_name} "
                                      f"passed; {self.budget.advice}")
            self.resolver.lifetime = min(self.lifetime, left)
        try:
            return self.resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return None
        except dns.exception.Timeout:
            within = f"{self.resolver.lifetime:.2g} s"
            if self.budget is not None and self.resolver.lifetime < self.lifetime:
                raise ResolverFailure(f"the resolver gave no answer for {question} within {within}, what was left "
                                      f"of {self.budget.deadline_name}; {self.budget.advice}") from None
            raise ResolverFailure(f"the resolver gave no answer for {question} within {within}; "
                                  f"{self._advice()}") from None
        except dns.exception.DNSException as err:  # SERVFAIL, REFUSED, a malformed answer...
            raise ResolverFailure(f"the resolver gave no answer for {question}: {err}; {self._advice()}") from None

    def _advice(self) -> str:
        return ("try again, ask another DNS resolver (--resolver 8.8.8.8, or --resolver system), or raise --timeout "
                f"(now {self.resolver.timeout:g} s a query)")

    def records(self, name: str, rdtype: str) -> list[Any]:
        """The rdatas of one type at a name (after any CNAMEs the resolver follows); [] if none."""
        answer = self._answer(name, rdtype)
        return list(answer.rrset) if answer is not None and answer.rrset is not None else []

    def exists(self, name: str) -> bool:
        return self._answer(name, "SOA") is not None

    def is_zone_apex(self, name: str) -> bool:
        """True when the name carries its own SOA: an apex, where most providers allow no CNAME."""
        answer = self._answer(name, "SOA")
        return answer is not None and answer.rrset is not None and _plain(answer.rrset.name) == name

    def cname_chain(self, name: str) -> list[str]:
        """The names a CNAME chain passes through after `name` (loops and long chains stop it)."""
        chain: list[str] = []
        current = name
        for _ in range(MAX_CNAME_HOPS):
            targets = self.records(current, "CNAME")
            if not targets:
                break
            current = _plain(targets[0].target)
            if current in chain or current == name:
                break
            chain.append(current)
        return chain

    def addresses(self, name: str) -> dict[str, set[str]]:
        return {family: {rdata.address for rdata in self.records(name, family)} for family in ("A", "AAAA")}

    def texts(self, name: str) -> list[str]:
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in self.records(name, "TXT")]

    def caa(self, name: str) -> tuple[str | None, list[Any]]:
        """The relevant CAA set (RFC 8659): the closest one walking up from the name."""
        labels = name.lstrip("*.").split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            found = self.records(candidate, "CAA")
            if found:
                return candidate, found
        return None, []


def _plain(name: object) -> str:
    return str(name).rstrip(".").lower()


# -- the checks -------------------------------------------------------------------------------------


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


def diagnose(lookup: Lookup, expect: Expectations) -> list[Finding]:
    hostname = expect.hostname
    chain = lookup.cname_chain(hostname)
    if not chain and not lookup.exists(hostname):
        if expect.zone and not lookup.exists(expect.zone):  # before blaming the customer, a name that must exist
            raise ResolverDeniesEverything(hostname, expect.zone)
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


def cloudflare_view(settings: StackSettings, hostname: str,
                    budget: Budget | None = None) -> tuple[dict[str, Any], Finding]:
    """The custom hostname as Cloudflare has it ({} when unknown or unreadable) and a finding saying so.

    One filtered API request, for the TXT values to compare; without a token or when the API fails,
    the DNS is still judged, only less precisely (within the same command `budget`).
    """
    from infra.operations.cloudflare_api import CloudflareApi, CloudflareApiError, MissingTokenError

    try:
        api = CloudflareApi.from_environment(budget=budget)
        zone_id = api.zone_id(settings.zone, settings.zone_id)
        live = api.custom_hostnames(zone_id, hostname=hostname)
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


def passes(findings: Sequence[Finding]) -> bool:
    """Warnings and notes are allowed; one failing check is not."""
    return not any(f.status == FAIL for f in findings)


def _listed(found: dict[str, set[str]]) -> dict[str, list[str]]:
    return {family: sorted(values) for family, values in found.items()}


def _show(found: dict[str, set[str]]) -> str:
    return "; ".join(f"{family} {', '.join(sorted(v))}" for family, v in found.items() if v) or "nothing"


def make_resolver(address: str | None, port: int = 53, timeout: float = 3.0) -> Any:
    """A dnspython resolver asking one server (None: the system's, from /etc/resolv.conf)."""
    import dns.resolver  # loaded by `check` only: the other commands start faster without it

    if address is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise ResolverFailure("no DNS resolver is configured on this machine (/etc/resolv.conf): pass "
                                  "--resolver ADDRESS") from None
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.timeout = timeout
    resolver.lifetime = timeout * 2
    resolver.cache = None
    return resolver
