"""How long and how much any network call of saas-domains may take: one policy for every client.

Whatever the network does (an answer that trickles in a byte at a time, a body that never ends, a
proxy's HTML page instead of JSON, a reset, a refusal), a command ends in bounded time with a
message that names the service, what was being done and what to try:

- each request has a wall-clock deadline for all of it together: connect, TLS, sending and every
  read (a per-read timeout alone never trips on a trickle);
- each command has one for all its requests, retries and waits; no request outlives it and no
  retry waits past it;
- each answer's body has a size cap, far above what the largest page of either API holds.

This module is the policy: the settings and their defaults (`Limits`), the command's clock
(`Budget`), one request's deadline (`Attempt`, which the clients' socket layers consult before every
blocking operation), and what a failed request was (`NetworkFailure`, with its advice and whether a
retry may help or may repeat something already done). How a client enforces it is in its own
module: the Cloudflare client (httpx), the GitHub client (urllib), `check`'s DNS lookups
(dnspython) and the fallback-origin waiter, which runs inside `pulumi destroy`.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infra.errors import ClientError

REQUEST_TIMEOUT_VARIABLE = "SAAS_DOMAINS_REQUEST_TIMEOUT"
COMMAND_TIMEOUT_VARIABLE = "SAAS_DOMAINS_COMMAND_TIMEOUT"
MAX_ANSWER_VARIABLE = "SAAS_DOMAINS_MAX_ANSWER_BYTES"
DEFAULT_REQUEST_SECONDS = 30.0
# Below the status workflow's 20-minute job limit, above Cloudflare's 5-minute rate-limit block.
DEFAULT_COMMAND_SECONDS = 600.0
# Cloudflare's largest page (1,000 custom hostnames) is a few MB; GitHub's (100 issues, each body at
# most 65,536 characters) is at most about 40 MB even if every character were escaped.
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024

# What went wrong with a request, below HTTP status codes.
TIMEOUT = "timeout"  # the request's deadline passed
OUT_OF_TIME = "out of time"  # the command's deadline passed (or a wait would pass it)
UNRESOLVED = "unresolved"  # DNS: the host name does not resolve
REFUSED = "refused"
UNREACHABLE = "unreachable"  # another failure to connect
TLS = "tls"
DROPPED = "dropped"  # closed or reset before the answer was complete
TRUNCATED = "truncated"  # shorter than it announced
TOO_LARGE = "too large"
NOT_JSON = "not json"
UNEXPECTED = "unexpected"  # JSON, but not the shape the API promises
CONNECTING = frozenset({UNRESOLVED, REFUSED, UNREACHABLE, TLS})


class LimitsError(ClientError, ValueError):
    """A limit set in the environment is not a usable number."""


def _seconds(value: float) -> str:
    return f"{value:g} s"


@dataclass(frozen=True)
class Limits:
    """The settings, from the environment variables above (unset: the defaults)."""

    request_seconds: float = DEFAULT_REQUEST_SECONDS
    command_seconds: float = DEFAULT_COMMAND_SECONDS
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        environ = os.environ if environ is None else environ
        return cls(_number(environ, REQUEST_TIMEOUT_VARIABLE, DEFAULT_REQUEST_SECONDS, "a number of seconds"),
                   _number(environ, COMMAND_TIMEOUT_VARIABLE, DEFAULT_COMMAND_SECONDS, "a number of seconds"),
                   int(_number(environ, MAX_ANSWER_VARIABLE, DEFAULT_MAX_ANSWER_BYTES, "a number of bytes",
                               whole=True)))

    def raise_request(self) -> str:
        return f"raise {REQUEST_TIMEOUT_VARIABLE} (now {_seconds(self.request_seconds)})"

    def raise_command(self) -> str:
        return f"raise {COMMAND_TIMEOUT_VARIABLE} (now {_seconds(self.command_seconds)})"


def _number(environ: Mapping[str, str], name: str, default: float, kind: str, *, whole: bool = False) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = None
    if value is None or not 0 < value < float("inf"):
        raise LimitsError(f"{name} must be {kind} above 0, got {raw!r}; unset it for the default ({default:g})")
    return value


SETTINGS = (
    (REQUEST_TIMEOUT_VARIABLE, f"one request in all: connect, TLS, sending and every read (default "
                               f"{_seconds(DEFAULT_REQUEST_SECONDS)})"),
    (COMMAND_TIMEOUT_VARIABLE, f"all the requests, retries and waits of one command (default "
                               f"{_seconds(DEFAULT_COMMAND_SECONDS)}); the fallback-origin waiter in `pulumi destroy` "
                               "has its own 10-minute deadline instead"),
    (MAX_ANSWER_VARIABLE, f"the largest answer body accepted (default {DEFAULT_MAX_ANSWER_BYTES:,} bytes, 64 MiB)"),
)


def help_lines() -> list[str]:
    """The settings as `saas-domains --help` ends (and the README states them): one line each."""
    width = max(len(name) for name, _ in SETTINGS)
    return [f"  {name:<{width}}  {meaning}" for name, meaning in SETTINGS]


def short_help() -> str:
    """One sentence for the description of each command that uses the network."""
    return (f"Each request ends within {REQUEST_TIMEOUT_VARIABLE} (default {_seconds(DEFAULT_REQUEST_SECONDS)}) and "
            f"the command within {COMMAND_TIMEOUT_VARIABLE} (default {_seconds(DEFAULT_COMMAND_SECONDS)}); "
            "`saas-domains --help` lists these network limits.")


def help_text() -> str:
    return ("network limits (environment variables; raise them on a slow network; a command that runs out "
            "says so and exits 2):\n" + "\n".join(help_lines()))


# -- the clocks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a client waits before trying a call again: bounded, so a persistent 429
    or 5xx ends with an error, never a hang. Each service's client holds one (its own numbers); the
    command's Budget still refuses any wait that would end past its deadline."""

    attempts: int  # calls in total, the first included
    max_wait: float  # never wait longer than this at once, whatever the service asks
    first_backoff: float  # without an answer saying how long: first_backoff, then twice as long each time

    def delay(self, attempt: int, asked: float | None = None) -> float:
        """The wait before attempt `attempt + 1`: what the service asked for (Retry-After and the like),
        else exponential backoff; never below zero, never above max_wait."""
        wanted = self.first_backoff * 2 ** (attempt - 1) if asked is None else asked
        return max(0.0, min(wanted, self.max_wait))


class Budget:
    """One command's time on the network: its deadline, and each request's, which never outlives it."""

    def __init__(self, limits: Limits | None = None, *, seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic, deadline_name: str | None = None,
                 advice: str | None = None) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self.seconds = self.limits.command_seconds if seconds is None else seconds
        self.started = clock()
        self.deadline_name = deadline_name or (f"the command's deadline of {_seconds(self.seconds)} "
                                               f"({COMMAND_TIMEOUT_VARIABLE})")
        self.advice = advice or f"{self.limits.raise_command()}, or try again later"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Budget:
        return cls(Limits.from_environment(environ), **options)

    def remaining(self) -> float:
        return self.seconds - (self.clock() - self.started)

    def attempt(self) -> Attempt:
        """The deadline of the next request: the request timeout, or what is left of the command's."""
        left = self.remaining()
        if left <= 0:
            raise NetworkFailure(OUT_OF_TIME, f"{self.deadline_name} has passed", transient=False,
                                 advice=self.advice)
        return Attempt(self, min(self.limits.request_seconds, left))

    def refuses_wait(self, seconds: float) -> str | None:
        """Why a wait (before a retry) may not happen: it would end past the command's deadline; None if it fits."""
        if seconds < self.remaining():
            return None
        return f"not retried: waiting {_seconds(round(seconds, 1))} would pass {self.deadline_name}"


_current = threading.local()


class Attempt:
    """One request on the wire: when it must be over, and whether any of it has been sent yet.

    The clients' socket layers call `timeout()` before every blocking operation (connect, TLS
    handshake, each send and each read), so no operation can block past the deadline; that is what
    makes the deadline total rather than per read.
    """

    def __init__(self, budget: Budget, seconds: float) -> None:
        self.budget, self.seconds = budget, seconds
        self.ends = budget.clock() + seconds
        self.cut_short = seconds < budget.limits.request_seconds  # by the command's deadline
        self.sent = False  # bytes of the request itself (not of a TLS handshake) went out

    def left(self) -> float:
        return self.ends - self.budget.clock()

    def timeout(self, wanted: float | None = None) -> float:
        """What one blocking operation may take: `wanted`, never past the deadline (then TimeoutError)."""
        left = self.left()
        if left <= 0:
            raise TimeoutError(f"the request's deadline of {_seconds(self.seconds)} has passed")
        return left if wanted is None else min(wanted, left)

    def late(self) -> NetworkFailure:
        if self.cut_short:
            return NetworkFailure(TIMEOUT, f"no complete answer within {_seconds(round(self.seconds, 2))}, what was "
                                  f"left of {self.budget.deadline_name}", transient=False, advice=self.budget.advice,
                                  maybe_done=self.sent)
        return NetworkFailure(TIMEOUT, f"no complete answer within {_seconds(self.seconds)} "
                              f"({REQUEST_TIMEOUT_VARIABLE})", transient=True, maybe_done=self.sent,
                              advice=f"try again later; on a slow network {self.budget.limits.raise_request()}")

    @contextmanager
    def active(self) -> Iterator[Attempt]:
        """While the request runs in this thread, `current_attempt()` is this one."""
        outer = getattr(_current, "attempt", None)
        _current.attempt = self
        try:
            yield self
        finally:
            _current.attempt = outer


def current_attempt() -> Attempt | None:
    return getattr(_current, "attempt", None)


# -- what went wrong ----------------------------------------------------------------------------------------


class NetworkFailure(Exception):
    """A request without a usable answer: what happened (`said`, for a person), whether another try may
    help (`transient`), whether the server may have acted on it (`maybe_done`: never repeat a POST
    then), and what to try (`advice`; None: the client's own, which knows its address variable)."""

    def __init__(self, kind: str, said: str, *, transient: bool, maybe_done: bool = True,
                 advice: str | None = None) -> None:
        super().__init__(said)
        self.kind, self.said, self.transient, self.maybe_done = kind, said, transient, maybe_done
        self.advice = advice

    def advice_for(self, address_variable: str, limits: Limits) -> str:
        """What to try, for this kind of failure, naming the variable that sets the client's address."""
        if self.advice:
            return self.advice
        if self.kind in (UNRESOLVED, REFUSED, UNREACHABLE):
            return f"check {address_variable} (unset it for the public address) and the network: DNS, proxy, firewall"
        if self.kind == TLS:
            return (f"check that {address_variable} is an https address that speaks TLS, and any proxy that "
                    "intercepts TLS (SSL_CERT_FILE names extra CA certificates)")
        if self.kind == TOO_LARGE:
            return f"if such an answer is genuine, raise {MAX_ANSWER_VARIABLE} (now {limits.max_answer_bytes:,})"
        if self.kind == UNEXPECTED:
            return (f"try again later; if it persists, check that {address_variable} points at the API itself, not "
                    "a proxy or another service")
        return "try again later"


def _chain(err: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        reason = getattr(err, "reason", None)  # urllib's URLError keeps the OSError there
        err = reason if isinstance(reason, BaseException) else (err.__cause__ or err.__context__)


def failure_of(err: BaseException, attempt: Attempt) -> NetworkFailure | None:
    """What an exception raised while a request ran means, or None when it is none of the network's doing."""
    chain = list(_chain(err))

    def found(*kinds: type[BaseException]) -> Any:
        return next((e for e in chain if isinstance(e, kinds)), None)

    if found(NetworkFailure):
        return found(NetworkFailure)
    if attempt.left() <= 0 or found(TimeoutError):
        return attempt.late()
    if resolving := found(socket.gaierror):
        return NetworkFailure(UNRESOLVED, f"the host name does not resolve ({resolving.strerror or resolving})",
                              transient=resolving.errno == socket.EAI_AGAIN, maybe_done=False)
    if found(ConnectionRefusedError):
        return NetworkFailure(REFUSED, "the connection was refused", transient=False, maybe_done=False)
    if certificate := found(ssl.SSLCertVerificationError):
        why = certificate.verify_message or certificate
        return NetworkFailure(TLS, f"the TLS certificate was not accepted ({why})", transient=False, maybe_done=False)
    if (tls := found(ssl.SSLError)) and not attempt.sent:
        return NetworkFailure(TLS, f"the TLS handshake failed ({tls.reason or tls})", transient=False,
                              maybe_done=False)
    if unusable := found(http.client.InvalidURL):
        return NetworkFailure(UNREACHABLE, f"the address is not usable ({unusable})", transient=False,
                              maybe_done=False)
    if found(http.client.IncompleteRead):
        return truncated(attempt)
    if found(ConnectionError, ssl.SSLError, EOFError, http.client.HTTPException):
        return dropped(attempt)
    if other := found(OSError):
        if attempt.sent:
            return dropped(attempt)
        return NetworkFailure(UNREACHABLE, f"the connection failed ({other.strerror or other})", transient=False,
                              maybe_done=False)
    return None


def dropped(attempt: Attempt) -> NetworkFailure:
    return NetworkFailure(DROPPED, "the connection was closed or reset before the answer was complete",
                          transient=True, maybe_done=attempt.sent)


def truncated(attempt: Attempt) -> NetworkFailure:
    return NetworkFailure(TRUNCATED, "the answer ended before the length it announced (truncated)", transient=True,
                          maybe_done=attempt.sent)


# -- answers ------------------------------------------------------------------------------------------------


def too_large(limit: int) -> NetworkFailure:
    return NetworkFailure(TOO_LARGE, f"the answer is larger than {limit:,} bytes ({MAX_ANSWER_VARIABLE})",
                          transient=False)


def collect(chunks: Iterable[bytes], limit: int, headers: Mapping[str, str]) -> bytes:
    """The body, chunk by chunk, refused as soon as it grows past `limit` bytes (an endless body, say), or at
    once when its Content-Length (in `headers`) says it would."""
    announced = str(headers.get("content-length") or "").strip()
    if announced.isdigit() and int(announced) > limit:
        raise too_large(limit)
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def json_answer(body: bytes) -> Any:
    """The answer's JSON; a body that is none (an HTML maintenance or error page) is a NetworkFailure."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        pass
    start = body.lstrip()[:1]
    if start == b"<":
        looks = "an HTML page (a proxy's, a captive portal's or a maintenance page?), not the API's JSON"
    elif not start:
        looks = "empty, not the API's JSON"
    else:
        looks = f"not JSON ({len(body):,} bytes, starting {body[:40]!r})"
    raise NetworkFailure(NOT_JSON, f"the answer is {looks}", transient=True)


def not_shaped(value: Any, wanted: str) -> NetworkFailure:
    """A JSON answer that is not what the operation promises (`wanted`: "an object", "a list of issues"...)."""
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")
    return NetworkFailure(UNEXPECTED, f"the answer is JSON but {kind}, not {wanted}", transient=False)

