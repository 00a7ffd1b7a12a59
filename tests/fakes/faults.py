"""A misbehaving network on loopback: the fakes' answers, spoiled on chosen requests the ways real networks do.

`faulty(serve_fake, fake, Fault(kind, at=N))` serves a fake (FakeCloudflare or FakeGitHub, through
the JSON handler of tests/fakes/loopback.py) whose answer to the N-th request, and to every later one
unless `times` says how many, is spoiled:

- `trickle`: the whole answer (status line, headers, body) one byte every `interval` seconds;
- `endless`: a chunked JSON body that never ends (`interval` seconds between chunks of 16 KiB);
- `huge`: a Content-Length of a gigabyte;
- `maintenance`: 200 with a proxy's HTML maintenance page; `html-error`: 502 with an HTML error page;
- `not-object`: 200 with JSON that is not an object (a string);
- `truncated`: a Content-Length larger than what is sent, then the connection closes;
- `reset`: half the body, then a TCP reset;
- `429` and `503`: that status with `Retry-After: 0` (transient: use `times=1` for "then success");
- `slow`: the answer as it was, `interval` seconds late; `gzip`: the answer as it was, gzip-encoded;
  `gzip-bomb`: a few kilobytes of gzip that unpack to 4 MB;
- `refused`: nothing listens from the N-th request on (the one before it says `Connection: close`);
- `tls`: the client is given an https:// address to this plain-HTTP server; `dns`: an unresolvable
  host name (both concern the address, so they hit the first request).

The fake still handles every request it receives (it records it and, for a POST, creates the issue):
a spoiled answer to a POST is one that may have taken effect. `FaultyDns` does the same for a DNS
server (tests/fakes/dns.py's resolver): no answer, SERVFAIL, REFUSED, garbage or a late answer.
Nothing here outlives the test: every slow loop stops when the client goes away or the server stops.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from dnslib import QTYPE, RCODE, DNSRecord

from tests.fakes import cloudflare as cloudflare_fake
from tests.fakes import github as github_fake
from tests.fakes.dns import ZoneResolver
from tests.fakes.loopback import loopback_server

ADDRESS_FAULTS = ("tls", "dns")
UNRESOLVABLE_HOST = "saas-domains-fault-test.invalid"
MAINTENANCE_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Down for maintenance</title></head>"
                    b"<body><h1>We'll be back soon</h1><p>Scheduled maintenance.</p></body></html>\n")
BAD_GATEWAY_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                    b"</body>\r\n</html>\r\n")
ERROR_JSON = (b'{"success": false, "errors": [{"code": 10000, "message": "spoiled by the fault server"}], '
              b'"messages": [], "result": null, "message": "spoiled by the fault server"}')
LONGEST = 60.0  # no slow answer lasts longer than this, whatever happens to the client


@dataclass(frozen=True)
class Fault:
    kind: str
    at: int = 1  # the request (1: the first) from which answers are spoiled
    times: int | None = None  # how many answers are spoiled (None: every one from `at` on)
    interval: float = 0.02  # trickle: seconds between bytes; endless: between chunks

    def hits(self, number: int) -> bool:
        return number >= self.at and (self.times is None or number < self.at + self.times)


@dataclass
class Faults:
    """What the fault server did: the address to give the client, and the requests it saw (1, 2, ...)."""

    faults: tuple[Fault, ...]
    base_url: str = ""
    seen: int = 0
    spoiled: list[tuple[int, str]] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> tuple[int, Fault | None]:
        with self.lock:
            self.seen += 1
            fault = next((f for f in self.faults if f.hits(self.seen)), None)
            if fault is not None:
                self.spoiled.append((self.seen, fault.kind))
            return self.seen, fault

    def refused_from(self) -> int | None:
        return next((f.at for f in self.faults if f.kind == "refused"), None)


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Answer')}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_REASONS = {200: "OK", 201: "Created", 429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable"}


def _spoiling(handler: type[BaseHTTPRequestHandler], faults: Faults) -> type[BaseHTTPRequestHandler]:
    """The fake's handler, with its `deliver` spoiled where the plan says."""

    class Spoiling(handler):  # type: ignore[misc, valid-type]
        def deliver(self, status: int, extra: dict[str, str], payload: bytes) -> None:
            number, fault = faults.take()
            refused = faults.refused_from()
            if refused is not None and number + 1 >= refused:  # before the answer: the client may be quick
                extra = {**extra, "Connection": "close"}
                self.close_connection = True
                _stop_listening(self.server)
            try:
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.interval)
                if fault is None or fault.kind in ("refused", "slow"):
                    super().deliver(status, extra, payload)
                else:
                    SPOILERS[fault.kind](self, status, payload, fault, faults)
            except OSError:  # the client went away (it gave up): that is the point
                self.close_connection = True

    return Spoiling


def _stop_listening(server: Any) -> None:
    """From now on a connection is refused (Linux refuses connections to a listener shut down)."""
    try:
        server.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    threading.Thread(target=server.shutdown, daemon=True).start()  # no busy loop on the dead listener


def _write_slowly(handler: BaseHTTPRequestHandler, data: bytes, size: int, interval: float, faults: Faults) -> None:
    started = time.monotonic()
    for start in range(0, len(data), size):
        if faults.stopped.is_set() or time.monotonic() - started > LONGEST:
            return
        handler.wfile.write(data[start:start + size])
        time.sleep(interval)


def _trickle(handler: Any, status: int, payload: bytes, fault: Fault, faults: Faults) -> None:
    answer = _head(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]) + payload
    handler.close_connection = True
    _write_slowly(handler, answer, 1, fault.interval, faults)


def _endless(handler: Any, status: int, payload: bytes, fault: Fault, faults: Faults) -> None:
    handler.close_connection = True
    handler.wfile.write(_head(200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]))
    chunk = b" " * 16384
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    started = time.monotonic()
    handler.wfile.write(b'1\r\n[\r\n')
    while not faults.stopped.is_set() and time.monotonic() - started < LONGEST:
        handler.wfile.write(framed)
        time.sleep(fault.interval)


def _fixed(status: int, content_type: str, body: bytes, **extra: str) -> Callable[..., None]:
    def spoil(handler: Any, _status: int, _payload: bytes, fault: Fault, faults: Faults) -> None:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra.items()]
        handler.wfile.write(_head(status, headers) + body)

    return spoil


def _huge(handler: Any, status: int, payload: bytes, fault: Fault, faults: Faults) -> None:
    handler.close_connection = True
    handler.wfile.write(_head(200, [("Content-Type", "application/json"), ("Content-Length", str(10**9))]) + payload)


def _truncated(handler: Any, status: int, payload: bytes, fault: Fault, faults: Faults) -> None:
    handler.close_connection = True
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload) + 100))]
    handler.wfile.write(_head(status, headers) + payload)


def _reset(handler: Any, status: int, payload: bytes, fault: Fault, faults: Faults) -> None:
    handler.close_connection = True
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    handler.wfile.write(_head(status, headers) + payload[: len(payload) // 2])
    time.sleep(0.05)  # the half arrives first
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()  # with a zero linger: RST, not FIN


def _gzip(handler: Any, status: int, payload: bytes, fault: Fault, faults: Faults) -> None:
    body = gzip.compress(payload)
    headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
    handler.wfile.write(_head(status, headers) + body)


def _gzip_bomb(handler: Any, status: int, payload: bytes, fault: Fault, faults: Faults) -> None:
    _gzip(handler, status, b'{"result": [' + b" " * 4_000_000 + b"]}", fault, faults)


SPOILERS: dict[str, Callable[..., None]] = {
    "trickle": _trickle,
    "endless": _endless,
    "huge": _huge,
    "maintenance": _fixed(200, "text/html; charset=utf-8", MAINTENANCE_PAGE),
    "html-error": _fixed(502, "text/html", BAD_GATEWAY_PAGE),
    "not-object": _fixed(200, "application/json", b'"not an object"'),
    "truncated": _truncated,
    "reset": _reset,
    "429": _fixed(429, "application/json", ERROR_JSON, **{"Retry-After": "0"}),
    "503": _fixed(503, "application/json", ERROR_JSON, **{"Retry-After": "0"}),
    "gzip": _gzip,  # not a fault: the answer as it was, gzip-encoded
    "gzip-bomb": _gzip_bomb,  # a few kilobytes that unpack to 4 MB
}
HTTP_FAULTS = (*SPOILERS, "slow", "refused", *ADDRESS_FAULTS)


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler], faults: Faults, prefix: str) -> Iterator[str]:
    with loopback_server(_spoiling(handler, faults)) as url:
        kinds = {f.kind for f in faults.faults}
        if "tls" in kinds:
            url = url.replace("http://", "https://")
        if "dns" in kinds:
            url = url.replace("127.0.0.1", UNRESOLVABLE_HOST)
        if faults.refused_from() == 1:
            url = url.rsplit(":", 1)[0] + f":{_closed_port()}"
        faults.base_url = url + prefix
        try:
            yield faults.base_url
        finally:
            faults.stopped.set()


@contextmanager
def faulty_cloudflare(fake: cloudflare_fake.FakeCloudflare, *plan: Fault) -> Iterator[Faults]:
    """FakeCloudflare on loopback with the planned faults; `fake.base_url` is the address to use."""
    faults = Faults(plan)
    with _serving(cloudflare_fake._handler(fake), faults, cloudflare_fake.PREFIX) as url:
        fake.base_url = url
        yield faults


@contextmanager
def faulty_github(fake: github_fake.FakeGitHub, *plan: Fault) -> Iterator[Faults]:
    """FakeGitHub on loopback with the planned faults; `fake.base_url` is the address to use."""
    faults = Faults(plan)
    with _serving(github_fake._handler(fake), faults, "") as url:
        fake.base_url = url
        yield faults


def _closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- DNS -----------------------------------------------------------------------------------------------------


DNS_FAULTS = ("silent", "servfail", "refused", "garbage", "late")


class FaultyDns:
    """A UDP DNS server on 127.0.0.1 answering from a ZoneResolver, except for the planned faults (by query)."""

    def __init__(self, *plan: Fault, late_by: float = 2.0) -> None:
        self.zone = ZoneResolver()
        self.faults = Faults(plan)
        self.late_by = late_by
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[int, str, str]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def resolver_argument(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self.faults.stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            request = DNSRecord.parse(data)
            number, fault = self.faults.take()
            self.queries.append((number, str(request.q.qname).rstrip("."), QTYPE[request.q.qtype]))
            kind = fault.kind if fault else None
            if kind == "silent":
                continue
            if kind == "garbage":
                self.sock.sendto(data[:2] + b"\x81\x80garbage", peer)
                continue
            reply = self.zone.resolve(request, None)
            if kind in ("servfail", "refused"):
                reply = request.reply()
                reply.header.rcode = RCODE.SERVFAIL if kind == "servfail" else RCODE.REFUSED
            if kind == "late":
                threading.Timer(self.late_by, self._send_late, (reply.pack(), peer)).start()
                continue
            self.sock.sendto(reply.pack(), peer)

    def _send_late(self, packet: bytes, peer: Any) -> None:
        if not self.faults.stopped.is_set():
            try:
                self.sock.sendto(packet, peer)
            except OSError:
                pass

    def __enter__(self) -> FaultyDns:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.faults.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()
