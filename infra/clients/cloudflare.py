"""The Cloudflare API as the operations commands need it: the official SDK, plus rate-limit manners.

Every call goes through `CloudflareApi.call`, which waits out HTTP 429 (honouring `Retry-After`)
and transient failures (5xx, a dropped or truncated answer, a request past its deadline, a
maintenance page instead of JSON), telling the person at the terminal instead of failing. The SDK's
own retries are off (`max_retries=0`) so that every wait is announced and bounded here, and no wait
runs past the command's deadline. Results are returned as plain dicts shaped like the API's JSON, so
the onboarding logic needs no SDK.

Every request runs through `BoundedTransport` (below), which holds it to the limits of
`network_limits`: a total deadline per request, the command's deadline, a size cap on the body, and a
JSON object for every successful answer; whatever else arrives becomes a `CloudflareApiError` whose
message names the API, what was being done and what to try.

Answers are read as Cloudflare's OpenAPI specification promises them, no more: a successful list
answer needs only `success`, `errors` and `messages` (`result` and `result_info` may be absent),
and paging never trusts `result_info.total_pages` alone (tests/contract runs the commands against
a mock generated from that specification).
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import cloudflare
import httpcore
import httpx

from infra.clients.network_limits import (
    CONNECTING,
    TRUNCATED,
    UNEXPECTED,
    UNREACHABLE,
    Budget,
    NetworkFailure,
    RetryPolicy,
    collect,
    current_attempt,
    dropped,
    failure_of,
    json_answer,
    not_shaped,
    too_large,
    truncated,
)
from infra.errors import ClientError

TOKEN_VARIABLE = "CLOUDFLARE_API_TOKEN"
BASE_URL_VARIABLE = "CLOUDFLARE_BASE_URL"
# GET /zones/{zone_id}/custom_hostnames: per_page "maximum": 1000 in Cloudflare's OpenAPI spec (it was 50).
CUSTOM_HOSTNAMES_PER_PAGE = 1000
# Cloudflare for SaaS holds at most 50,000 custom hostnames per zone outside Enterprise contracts: a
# listing that claims more pages than that is refused instead of followed for ever.
ZONE_HOSTNAME_LIMIT = 50_000
RATE_LIMIT_NOTE = "the API allows about 1,200 requests per 5 minutes per user"
TOKEN_HELP = (f"set {TOKEN_VARIABLE} to an API token scoped to the SaaS zone with Zone · SSL and Certificates "
              "(read is enough for status, instructions and check; import also reads Zone · DNS), e.g. "
              f"`export {TOKEN_VARIABLE}=...`; {BASE_URL_VARIABLE} overrides the API address")

T = TypeVar("T")


class CloudflareApiError(ClientError):
    """A call failed for good; the message says why and what to do, for a person."""


class MissingTokenError(CloudflareApiError):
    """No API token in the environment: the command cannot run at all."""


# Cloudflare blocks a client for 5 minutes after its rate limit: never wait longer at once; 2, 4, 8... s
# without Retry-After.
RETRY = RetryPolicy(attempts=5, max_wait=300.0, first_backoff=2.0)


def _stderr_notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wait(seconds: float) -> None:
    """The one place this module sleeps by default (tests replace it)."""
    time.sleep(seconds)


class CloudflareApi:
    """One SDK client plus the waiting policy; `sleep` and `notify` are injectable for tests.

    `budget` is the command's time (network_limits.Budget): the transport gives each request what is
    left of it, and `call` never waits for a retry past it.
    """

    def __init__(self, client: cloudflare.Cloudflare, *, retry: RetryPolicy = RETRY,
                 sleep: Callable[[float], None] | None = None,
                 notify: Callable[[str], None] = _stderr_notice, budget: Budget | None = None) -> None:
        self.client = client
        self.retry = retry
        self.sleep = sleep or (lambda seconds: wait(seconds))
        self.notify = notify
        self.budget = budget or Budget()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, *, budget: Budget | None = None,
                         **options: Any) -> CloudflareApi:
        """Token from CLOUDFLARE_API_TOKEN, address from CLOUDFLARE_BASE_URL (default: Cloudflare's); the
        limits from the same environment (network_limits) unless the command's `budget` is given."""
        environ = os.environ if environ is None else environ
        token = (environ.get(TOKEN_VARIABLE) or "").strip()
        if not token:
            raise MissingTokenError(f"{TOKEN_VARIABLE} is not set: {TOKEN_HELP}")
        budget = budget or Budget.from_environment(environ)
        http_client = cloudflare.DefaultHttpxClient(transport=BoundedTransport(budget), trust_env=False,
                                                    timeout=budget.limits.request_seconds)
        client = cloudflare.Cloudflare(api_token=token, base_url=environ.get(BASE_URL_VARIABLE) or None,
                                       max_retries=0, timeout=budget.limits.request_seconds, http_client=http_client)
        # The SDK prefers a global API key or e-mail found in the environment over the token; this
        # project authenticates with the scoped token only.
        client.api_key = client.api_email = client.user_service_key = None
        return cls(client, budget=budget, **options)

    # -- waiting -------------------------------------------------------------------------------

    def call(self, request: Callable[[], T], what: str, *, missing_ok: bool = False) -> T | None:
        """Run one API request, waiting out rate limits and transient server errors (bounded).

        With missing_ok, an HTTP 404 means "there is none" and returns None.
        """
        waited = 0.0
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return request()
            except cloudflare.RateLimitError as err:
                if attempt == self.retry.attempts:
                    raise CloudflareApiError(
                        f"Cloudflare rate limit: still limited after {attempt} attempts while {what} "
                        f"(waited {waited:.0f} s in total); {RATE_LIMIT_NOTE} and blocks a client that "
                        "exceeds it for 5 minutes: wait, then run the command again") from None
                delay, reason = self._delay(err.response.headers, attempt)
                self._refuse_late_wait(delay, f"Cloudflare rate limit while {what}",
                                       f"{RATE_LIMIT_NOTE}: wait, then run the command again")
                self.notify(f"Cloudflare rate limit: waiting {_seconds(delay)} ({reason}), "
                            f"attempt {attempt + 1} of {self.retry.attempts}")
            except cloudflare.InternalServerError as err:
                if attempt == self.retry.attempts:
                    raise CloudflareApiError(f"Cloudflare API failed while {what}: {describe(err)}; "
                                             "try again later") from None
                delay, reason = self._delay(err.response.headers, attempt)
                self._refuse_late_wait(delay, f"Cloudflare API failed while {what}: {describe(err)}",
                                       "try again later")
                self.notify(f"Cloudflare API answered {err.status_code}: retrying in {_seconds(delay)} "
                            f"({reason}), attempt {attempt + 1} of {self.retry.attempts}")
            except cloudflare.NotFoundError as err:
                if missing_ok:
                    return None
                raise CloudflareApiError(f"Cloudflare API refused {what}: {describe(err)}") from None
            except cloudflare.APIStatusError as err:
                raise CloudflareApiError(f"Cloudflare API refused {what}: {describe(err)}") from None
            except cloudflare.APIConnectionError as err:
                failure = err.__cause__ if isinstance(err.__cause__, NetworkFailure) else None
                if failure is None:  # none of ours: httpx or the SDK itself refused (an address that is no URL)
                    raise CloudflareApiError(f"cannot reach the Cloudflare API at {self.client.base_url} "
                                             f"while {what}: {err.__cause__ or err}; check {BASE_URL_VARIABLE} "
                                             "(unset it for Cloudflare's own address)") from None
                if not failure.transient or attempt == self.retry.attempts:
                    tries = f" (still failing after {attempt} attempts)" if attempt > 1 else ""
                    raise CloudflareApiError(self._failed(failure, what + tries)) from None
                delay = self.retry.delay(attempt)
                self._refuse_late_wait(delay, self._failed(failure, what, advice=False), self._advice(failure))
                self.notify(f"Cloudflare API: {failure.said} while {what}: retrying in {_seconds(delay)}, "
                            f"attempt {attempt + 1} of {self.retry.attempts}")
            self.sleep(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _advice(self, failure: NetworkFailure) -> str:
        return failure.advice_for(BASE_URL_VARIABLE, self.budget.limits)

    def _failed(self, failure: NetworkFailure, what: str, *, advice: bool = True) -> str:
        """The message for a request that got no usable answer: the API, what happened, what was being done."""
        if failure.kind in CONNECTING:
            said = f"cannot reach the Cloudflare API at {self.client.base_url} while {what}: {failure.said}"
        else:
            said = f"Cloudflare API at {self.client.base_url}, while {what}: {failure.said}"
        return f"{said}; {self._advice(failure)}" if advice else said

    def _refuse_late_wait(self, delay: float, said: str, advice: str) -> None:
        """No retry whose wait would end past the command's deadline: say so instead of waiting."""
        refusal = self.budget.refuses_wait(delay)
        if refusal:
            raise CloudflareApiError(f"{said}; {refusal}; {advice}") from None

    def _delay(self, headers: Mapping[str, str], attempt: int) -> tuple[float, str]:
        """Retry-After when the API gives it (capped), else exponential backoff."""
        retry_after = _parse_retry_after(headers.get("retry-after"))
        return self.retry.delay(attempt, retry_after), "Retry-After" if retry_after is not None else "backoff"

    # -- endpoints ------------------------------------------------------------------------------

    def zone_id(self, zone: str, configured: str | None = None) -> str:
        """The configured id, or one zones.list by name (exactly one zone must match)."""
        if configured:
            return configured
        page = self.call(lambda: self.client.zones.list(name=zone), f"looking up the zone {zone}")
        matches = [z for z in _page_items(page) if getattr(z, "name", None) == zone and getattr(z, "id", None)]
        if len(matches) != 1:
            found = "no zone" if not matches else f"{len(matches)} zones"
            raise CloudflareApiError(
                f"{found} named {zone} visible to this token; check the token's zone scope, or set "
                f"`pulumi config set saas-domains:zoneId <id>`")
        return matches[0].id

    def custom_hostnames(self, zone_id: str, *, hostname: str | None = None,
                         on_page: Callable[[int, int | None], None] | None = None,
                         limit: int = ZONE_HOSTNAME_LIMIT) -> list[dict[str, Any]]:
        """Every custom hostname of the zone (or one, by exact name), one request per page.

        Pages of CUSTOM_HOSTNAMES_PER_PAGE (the largest the API allows). The listing ends at the
        first empty or short page, at a page that brings nothing new, or at result_info.total_pages,
        whichever comes first, so an answer promising millions of pages costs no more than the
        pages that hold hostnames; more than `limit` hostnames (what a zone can hold) is an error,
        so the requests are bounded by ceil(limit / page size) + 1 whatever the answers say.
        """
        extra: dict[str, Any] = {"hostname": {"exact": hostname}} if hostname else {}
        what = f"looking up the custom hostname {hostname}" if hostname else "listing custom hostnames"
        page = self.call(lambda: self.client.custom_hostnames.list(
            zone_id=zone_id, page=1, per_page=CUSTOM_HOSTNAMES_PER_PAGE, **extra), what)
        number, items, seen = 1, [], set()
        while True:
            batch = [_as_dict(item) for item in _page_items(page)]
            fresh = [item for item in batch if _identity(item) not in seen]
            seen.update(_identity(item) for item in fresh)
            items.extend(fresh)
            total, size = _total_pages(page), _page_size(page)
            max_pages = -(-limit // size) + 1  # the last one may only confirm the end
            if on_page is not None:
                on_page(number, min(total, max_pages) if total else None)
            if len(items) > limit:
                raise CloudflareApiError(
                    f"Cloudflare listed more than {limit:,} custom hostnames for this zone, more than a zone "
                    f"holds (stopped after {number} requests); if the zone "
                    "really has more (an Enterprise contract), raise saas-domains:maxHostnames above that")
            if not fresh or not _has_more(number, total, len(batch), size):
                return items
            if number >= max_pages:  # full pages of new hostnames beyond what a zone holds
                raise CloudflareApiError(
                    f"Cloudflare's listing of custom hostnames did not end after {number} pages of {size:,} "
                    f"(result_info.total_pages says {total}), more than a zone holds ({limit:,}): stopped; "
                    "try again later, or report the answer to Cloudflare")
            current = page
            page = self.call(current.get_next_page, f"{what} (page {number + 1})")
            number += 1

    def fallback_origin(self, zone_id: str) -> dict[str, Any] | None:
        """The zone's fallback origin, or None when none is set (the API answers 404)."""
        result = self.call(lambda: self.client.custom_hostnames.fallback_origin.get(zone_id=zone_id),
                           "reading the fallback origin", missing_ok=True)
        origin = _as_dict(result) if result is not None else {}
        return origin if origin.get("origin") else None

    def dns_records(self, zone_id: str, name: str, record_type: str) -> list[dict[str, Any]]:
        """Records of one exact name and type (a single page: there are at most a few)."""
        page = self.call(lambda: self.client.dns.records.list(zone_id=zone_id, name={"exact": name},
                                                                type=record_type),
                         f"looking up the {record_type} record {name}")
        return [record for record in map(_as_dict, _page_items(page)) if record.get("id")]


# -- helpers -----------------------------------------------------------------------------------------


def describe(err: cloudflare.APIStatusError) -> str:
    """'HTTP 403: 9109 Invalid access token' from the API's error envelope, when it has one."""
    body = err.body if isinstance(err.body, dict) else {}
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    details = "; ".join(_error_text(e) for e in errors if isinstance(e, dict))
    if isinstance(err.body, str) and err.body.lstrip().startswith("<"):
        details = "an HTML page, not the API's JSON (a proxy, or Cloudflare's edge, answered)"
    hint = ""
    if err.status_code in (401, 403):
        hint = f" (is {TOKEN_VARIABLE} valid and scoped to this zone with Zone · SSL and Certificates?)"
    return f"HTTP {err.status_code}" + (f": {details}" if details else "") + hint


def _error_text(error: Mapping[str, Any]) -> str:
    code, message = error.get("code"), error.get("message") or ""
    return f"{code} {message}".strip() if code is not None else str(message)


def _as_dict(model: Any) -> dict[str, Any]:
    """The API's JSON shape back from an SDK model (unknown fields the API added included)."""
    return model.model_dump(mode="json", exclude_none=True) if hasattr(model, "model_dump") else dict(model)


def _page_items(page: Any) -> list[Any]:
    """A list answer's items; the spec lets a successful answer leave `result` out (or null)."""
    return list(getattr(page, "result", None) or [])


def _identity(item: Mapping[str, Any]) -> Any:
    """What makes a custom hostname the same one on another page: its id (required by the spec)."""
    return item.get("id") or item.get("hostname") or id(item)


def _total_pages(page: Any) -> int | None:
    """result_info.total_pages when the answer has a usable one (the spec makes it optional)."""
    info = getattr(page, "result_info", None)
    if info is None:
        return None
    total = getattr(info, "total_pages", None)
    if total is None and getattr(info, "model_extra", None):
        total = info.model_extra.get("total_pages")
    try:
        total = int(total) if total is not None else None
    except (TypeError, ValueError, OverflowError):
        return None
    return total if total is not None and total >= 1 else None


def _page_size(page: Any) -> int:
    """The page size the API says it used, else the one asked for."""
    info = getattr(page, "result_info", None)
    size = getattr(info, "per_page", None) if info is not None else None
    try:
        size = int(size) if size is not None else None
    except (TypeError, ValueError, OverflowError):
        size = None
    return size if size and 0 < size <= CUSTOM_HOSTNAMES_PER_PAGE else CUSTOM_HOSTNAMES_PER_PAGE


def _has_more(number: int, total: int | None, count: int, size: int) -> bool:
    """Only a full page can have a successor; total_pages, when given, can only end the listing sooner."""
    if count == 0 or count < size:
        return False
    return total is None or number < total


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; an HTTP date also works)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # the rare HTTP-date form
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _seconds(delay: float) -> str:
    return f"{delay:.0f} s" if delay >= 1 or delay == 0 else f"{delay:.1f} s"



# -- the transport: every request held to the limits -----------------------------------------------------------
#
# Why this depth. httpx's `timeout` is per phase (connect, each write, each read), so an answer that
# trickles in a byte at a time never trips it, and the SDK reads the body and parses it (a
# JSONDecodeError for a proxy's HTML page) outside anything we can wrap. Event hooks and a wrapping
# transport still see only whole phases. The one place every blocking operation passes through with
# its own timeout is httpcore's network stream: there `_DeadlineStream` hands each connect, TLS
# handshake, write and read the time left until the request's deadline (`Attempt.timeout`), so the
# deadline is total, with no thread to watch the clock. `BoundedTransport` is an httpx transport on
# httpcore's public API (a connection pool with that network backend) that reads the whole body under
# the deadline and the size cap before the SDK sees it, and refuses a successful answer that is not a
# JSON object. It replaces httpx's own transport, so it also does what that one did from the
# environment: the proxy (HTTPS_PROXY, NO_PROXY) and the CA certificates (SSL_CERT_FILE).


def _timeout(wanted: float | None) -> float | None:
    attempt = current_attempt()
    return wanted if attempt is None else attempt.timeout(wanted)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every blocking operation ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _timeout(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        limit = _timeout(timeout)
        attempt = current_attempt()
        if attempt is not None and buffer:
            attempt.sent = True
        self._inner.write(buffer, limit)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _timeout(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _timeout(timeout), local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _timeout(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


_DROPPED_HEADERS = {b"content-encoding", b"content-length", b"transfer-encoding"}


class BoundedTransport(httpx.BaseTransport):
    """An httpx transport that holds every request to the command's `Budget` (see the note above)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._ssl = _ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        self._backend = _DeadlineBackend()
        self._pools: dict[str | None, httpcore.ConnectionPool] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limit = self.budget.limits.max_answer_bytes
        attempt = self.budget.attempt()
        with attempt.active():
            try:
                status, headers, extensions, raw = self._exchange(request, limit)
            except NetworkFailure:
                raise
            except httpcore.RemoteProtocolError as err:  # the connection ended before the answer did
                raise (truncated(attempt) if "complete message body" in str(err) else dropped(attempt)) from err
            except Exception as err:
                failure = failure_of(err, attempt)
                if failure is None:
                    raise
                raise failure from err
        body = _decoded(raw, headers.get("content-encoding", ""), limit)
        if 200 <= status < 300:
            value = json_answer(body)
            if not isinstance(value, dict):
                raise not_shaped(value, "an object as the API promises")
        kept = [(k, v) for k, v in headers.raw if k.lower() not in _DROPPED_HEADERS]
        return httpx.Response(status, headers=kept, content=body, extensions=extensions, request=request)

    def _exchange(self, request: httpx.Request, limit: int) -> tuple[int, httpx.Headers, dict[str, Any], bytes]:
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"accept-encoding"]
        headers.append((b"accept-encoding", b"gzip"))  # the one encoding decoded here, under the size cap
        core = httpcore.Request(method=request.method, url=httpcore.URL(
            scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
            target=request.url.raw_path), headers=headers, content=request.stream, extensions=request.extensions)
        answer = self._pool(request.url).handle_request(core)
        try:
            answer_headers = httpx.Headers(answer.headers)
            raw = collect(answer.stream, limit, answer_headers)
        finally:
            answer.close()
        extensions = {key: answer.extensions[key] for key in ("http_version", "reason_phrase")
                      if key in answer.extensions}
        return answer.status, answer_headers, extensions, raw

    def _pool(self, url: httpx.URL) -> httpcore.ConnectionPool:
        proxy = _environment_proxy(url)
        if proxy not in self._pools:
            options: dict[str, Any] = {"ssl_context": self._ssl, "network_backend": self._backend,
                                       "max_connections": 10, "max_keepalive_connections": 10}
            if proxy is None:
                self._pools[proxy] = httpcore.ConnectionPool(**options)
            else:
                given = httpx.Proxy(proxy)
                if given.url.scheme not in ("http", "https"):
                    raise NetworkFailure(UNREACHABLE, f"the proxy {given.url} is not an http(s) proxy, which "
                                         "this client needs", transient=False, maybe_done=False,
                                         advice="set HTTPS_PROXY to an http(s) proxy, or NO_PROXY for the API")
                self._pools[proxy] = httpcore.HTTPProxy(
                    proxy_url=httpcore.URL(scheme=given.url.raw_scheme, host=given.url.raw_host,
                                           port=given.url.port, target=given.url.raw_path),
                    proxy_auth=given.raw_auth, proxy_headers=given.headers.raw, proxy_ssl_context=given.ssl_context,
                    **options)
        return self._pools[proxy]

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


@functools.lru_cache(maxsize=4)
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's context (the CA certificates of SSL_CERT_FILE / SSL_CERT_DIR, else certifi's), made once: loading
    the certificates takes longer than a request to a nearby server."""
    return httpx.create_ssl_context()


def _environment_proxy(url: httpx.URL) -> str | None:
    """The proxy the environment sets for this address (HTTPS_PROXY, ALL_PROXY), unless NO_PROXY exempts it."""
    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass_environment(url.host, proxies):
        return None
    return proxies.get(url.scheme) or proxies.get("all")


def _decoded(raw: bytes, encoding: str, limit: int) -> bytes:
    """The body without its gzip encoding, still under the size cap (a small gzip can hold a huge body)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise NetworkFailure(UNEXPECTED, f"the answer is in the {encoding} encoding, which was not asked for",
                             transient=False)
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        body = decoder.decompress(raw, limit + 1)
    except zlib.error:
        body, complete = b"", False
    else:
        complete = decoder.eof
    if len(body) > limit:
        raise too_large(limit)
    if not complete:
        raise NetworkFailure(TRUNCATED, "the compressed answer is cut short or corrupt", transient=True)
    return body
