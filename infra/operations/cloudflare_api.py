"""The Cloudflare API as the operations commands need it: the official SDK, plus rate-limit manners.

Every call goes through `CloudflareApi.call`, which waits out HTTP 429 (honouring `Retry-After`)
and transient 5xx answers, telling the person at the terminal instead of failing. The SDK's own
retries are off (`max_retries=0`) so that every wait is announced and bounded here. Results are
returned as plain dicts shaped like the API's JSON, so the onboarding logic needs no SDK.

Answers are read as Cloudflare's OpenAPI specification promises them, no more: a successful list
answer needs only `success`, `errors` and `messages` (`result` and `result_info` may be absent),
and paging never trusts `result_info.total_pages` alone (tests/contract runs the commands against
a mock generated from that specification).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import cloudflare

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


class CloudflareApiError(Exception):
    """A call failed for good; the message says why and what to do, for a person."""


class MissingTokenError(CloudflareApiError):
    """No API token in the environment: the command cannot run at all."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: bounded, so a persistent 429 ends with an error, not a hang."""

    attempts: int = 5  # calls in total, the first included
    max_wait: float = 300.0  # Cloudflare blocks for 5 minutes after the limit; never wait longer at once
    first_backoff: float = 2.0  # without Retry-After: 2, 4, 8... seconds


def _stderr_notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CloudflareApi:
    """One SDK client plus the waiting policy; `sleep` and `notify` are injectable for tests."""

    def __init__(self, client: cloudflare.Cloudflare, *, retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep,
                 notify: Callable[[str], None] = _stderr_notice) -> None:
        self.client = client
        self.retry = retry
        self.sleep = sleep
        self.notify = notify

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **options: Any) -> CloudflareApi:
        """Token from CLOUDFLARE_API_TOKEN, address from CLOUDFLARE_BASE_URL (default: Cloudflare's)."""
        environ = os.environ if environ is None else environ
        token = (environ.get(TOKEN_VARIABLE) or "").strip()
        if not token:
            raise MissingTokenError(f"{TOKEN_VARIABLE} is not set: {TOKEN_HELP}")
        client = cloudflare.Cloudflare(api_token=token, base_url=environ.get(BASE_URL_VARIABLE) or None,
                                       max_retries=0, timeout=30.0)
        # The SDK prefers a global API key or e-mail found in the environment over the token; this
        # project authenticates with the scoped token only.
        client.api_key = client.api_email = client.user_service_key = None
        return cls(client, **options)

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
                self.notify(f"Cloudflare rate limit: waiting {_seconds(delay)} ({reason}), "
                            f"attempt {attempt + 1} of {self.retry.attempts}")
            except cloudflare.InternalServerError as err:
                if attempt == self.retry.attempts:
                    raise CloudflareApiError(f"Cloudflare API failed while {what}: {describe(err)}; "
                                             "try again later") from None
                delay, reason = self._delay(err.response.headers, attempt)
                self.notify(f"Cloudflare API answered {err.status_code}: retrying in {_seconds(delay)} "
                            f"({reason}), attempt {attempt + 1} of {self.retry.attempts}")
            except cloudflare.NotFoundError as err:
                if missing_ok:
                    return None
                raise CloudflareApiError(f"Cloudflare API refused {what}: {describe(err)}") from None
            except cloudflare.APIStatusError as err:
                raise CloudflareApiError(f"Cloudflare API refused {what}: {describe(err)}") from None
            except cloudflare.APIConnectionError as err:
                raise CloudflareApiError(f"cannot reach the Cloudflare API at {self.client.base_url} "
                                         f"while {what}: {err.__cause__ or err}") from None
            self.sleep(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, headers: Mapping[str, str], attempt: int) -> tuple[float, str]:
        """Retry-After when the API gives it (capped), else exponential backoff."""
        retry_after = _parse_retry_after(headers.get("retry-after"))
        if retry_after is not None:
            return min(retry_after, self.retry.max_wait), "Retry-After"
        return min(self.retry.first_backoff * 2 ** (attempt - 1), self.retry.max_wait), "backoff"

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
        page = self.call(lambda: self.client.custom_hostnames.list(
            zone_id=zone_id, page=1, per_page=CUSTOM_HOSTNAMES_PER_PAGE, **extra), "listing custom hostnames")
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
            page = self.call(current.get_next_page, f"listing custom hostnames (page {number + 1})")
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

