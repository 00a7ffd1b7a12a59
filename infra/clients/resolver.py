"""DNS questions over a dnspython resolver, each within the command's deadline, every failure a message.

NXDOMAIN reads as "nothing there"; no answer at all (timeout, SERVFAIL, REFUSED, a malformed answer)
is a ResolverFailure, which names the question and what to try, so `check` never blames a customer
for what the resolver did.
"""

from __future__ import annotations

from typing import Any

from infra.clients.network_limits import Budget
from infra.errors import ClientError

MAX_CNAME_HOPS = 10
DEFAULT_RESOLVER = "1.1.1.1"  # public, because support's own network may see the customer's DNS differently
OTHER_RESOLVER = "8.8.8.8"
SYSTEM = "system resolver"


class ResolverFailure(ClientError):
    """The resolver did not answer (timeout, SERVFAIL, refused, garbage): the DNS cannot be judged."""


class ResolverDeniesEverything(ResolverFailure):
    """The resolver says NXDOMAIN for a name that must exist too (the SaaS zone): its "no such name" for the
    customer's hostname says nothing about the customer's DNS."""


def resolver_address(address: str | None, port: int) -> str:
    """How a resolver is named in every message: `1.1.1.1:53`, `[::1]:5353`, or the system resolver."""
    if address is None:
        return SYSTEM
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def other_resolvers(address: str | None) -> str:
    """The options to try instead of a resolver that answers nothing but NXDOMAIN."""
    if address == DEFAULT_RESOLVER:
        return f"--resolver {OTHER_RESOLVER}"
    return f"--resolver {DEFAULT_RESOLVER} (the default) or --resolver {OTHER_RESOLVER}"


class Lookup:
    """The few queries the diagnosis needs, over a dnspython resolver; NXDOMAIN reads as "nothing".

    Each query may take the resolver's `lifetime` in all (dnspython's total for one question, retries
    and servers included), never more than what is left of the command's `budget`.
    """

    def __init__(self, resolver: Any, budget: Budget | None = None, address: str | None = None) -> None:
        self.resolver = resolver
        self.budget = budget
        self.lifetime = resolver.lifetime
        self.address = address  # None: the system's
        self.where = resolver_address(address, getattr(resolver, "port", 53))

    def failure(self, said: str) -> ResolverFailure:
        """Every failure names the resolver, so the message says whose answer is missing."""
        return ResolverFailure(f"resolver {self.where} failed: {said}")

    def denies_everything(self, hostname: str, known: str) -> ResolverDeniesEverything:
        return ResolverDeniesEverything(
            f"resolver {self.where} failed: it answers NXDOMAIN (no such name) for {hostname} and also for {known}, "
            "the SaaS zone, which exists: the resolver is the problem, not the customer's DNS (a filtering or "
            "split-horizon resolver, or a network that answers every name itself?); the customer's records were "
            f"not judged. Ask another resolver: {other_resolvers(self.address)}")

    def _answer(self, name: str, rdtype: str) -> Any | None:
        """The resolver's answer (possibly empty), None for NXDOMAIN; no answer at all is a failure."""
        import dns.exception
        import dns.resolver

        question = f"{name} {rdtype}"
        if self.budget is not None:
            left = self.budget.remaining()
            if left <= 0:
                raise self.failure(f"the resolver gave no answer for {question}: {self.budget.deadline_name} "
                                   f"passed; {self.budget.advice}")
            self.resolver.lifetime = min(self.lifetime, left)
        try:
            return self.resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return None
        except dns.exception.Timeout:
            within = f"{self.resolver.lifetime:.2g} s"
            if self.budget is not None and self.resolver.lifetime < self.lifetime:
                raise self.failure(f"the resolver gave no answer for {question} within {within}, what was left "
                                   f"of {self.budget.deadline_name}; {self.budget.advice}") from None
            raise self.failure(f"the resolver gave no answer for {question} within {within}; "
                               f"{self._advice()}") from None
        except dns.exception.DNSException as err:  # SERVFAIL, REFUSED, a malformed answer...
            raise self.failure(f"the resolver gave no answer for {question}: {err}; {self._advice()}") from None

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
        return answer is not None and answer.rrset is not None and plain_name(answer.rrset.name) == name

    def cname_chain(self, name: str) -> list[str]:
        """The names a CNAME chain passes through after `name` (loops and long chains stop it)."""
        chain: list[str] = []
        current = name
        for _ in range(MAX_CNAME_HOPS):
            targets = self.records(current, "CNAME")
            if not targets:
                break
            current = plain_name(targets[0].target)
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


def plain_name(name: object) -> str:
    return str(name).rstrip(".").lower()


def make_resolver(address: str | None, port: int = 53, timeout: float = 3.0) -> Any:
    """A dnspython resolver asking one server (None: the system's, from /etc/resolv.conf)."""
    import dns.resolver  # loaded by `check` only: the other commands start faster without it

    if address is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise ResolverFailure(f"resolver {SYSTEM} failed: no DNS resolver is configured on this machine "
                                  "(/etc/resolv.conf): pass --resolver ADDRESS") from None
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.timeout = timeout
    resolver.lifetime = timeout * 2
    resolver.cache = None
    return resolver
