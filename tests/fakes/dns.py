"""A small DNS server on 127.0.0.1 (dnslib, ephemeral UDP port) that answers like a public resolver.

Tests give it zone-file lines; it follows CNAME chains across all of them as a recursive resolver
would, answers NXDOMAIN for names that do not exist, SOA at the apexes it is told about, and can
be told to SERVFAIL a name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer


def _key(name: object) -> str:
    return str(name).rstrip(".").lower()


class ZoneResolver(BaseResolver):
    def __init__(self) -> None:
        self.records: dict[str, list[RR]] = defaultdict(list)
        self.failing: set[str] = set()
        self.queries: list[tuple[str, str]] = []

    def load(self, zone_text: str) -> None:
        """Add records written as zone-file lines (full names, trailing dots optional)."""
        for line in zone_text.strip().splitlines():
            line = line.strip()
            if line and not line.startswith(";"):
                for rr in RR.fromZone(line):
                    self.records[_key(rr.rname)].append(rr)

    def clear(self) -> None:
        self.records.clear()
        self.failing.clear()

    def exists(self, name: str) -> bool:
        return name in self.records or any(other.endswith("." + name) for other in self.records)

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        reply = request.reply()
        name, qtype = _key(request.q.qname), QTYPE[request.q.qtype]
        self.queries.append((name, qtype))
        if name in self.failing:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        for _ in range(10):
            here = self.records.get(name, [])
            cnames = [rr for rr in here if rr.rtype == QTYPE.CNAME]
            if cnames and qtype != "CNAME":
                reply.add_answer(*cnames)
                name = _key(cnames[0].rdata.label)
                continue
            reply.add_answer(*[rr for rr in here if QTYPE[rr.rtype] == qtype])
            if not self.exists(name):
                reply.header.rcode = RCODE.NXDOMAIN
            break
        return reply


class FakeDns:
    def __init__(self, resolver: ZoneResolver, server: DNSServer) -> None:
        self.zone = resolver
        self.server = server
        self.address = "127.0.0.1"
        self.port = server.server.server_address[1]

    def load(self, zone_text: str) -> None:
        self.zone.load(zone_text)

    def fail(self, name: str) -> None:
        self.zone.failing.add(_key(name))

    @property
    def resolver_argument(self) -> str:
        return f"{self.address}:{self.port}"


@contextmanager
def serve_dns() -> Iterator[FakeDns]:
    resolver = ZoneResolver()
    server = DNSServer(resolver, port=0, address="127.0.0.1", logger=DNSLogger(logf=lambda message: None))
    server.start_thread()
    try:
        yield FakeDns(resolver, server)
    finally:
        server.stop()
        server.server.server_close()

