"""A waiter between the fallback origin and its DNS record, so that one `pulumi destroy` completes.

Cloudflare deletes a custom-hostname fallback origin asynchronously (status `pending_deletion`) and
refuses to delete the DNS record it uses until it is gone (API error 1039). The waiter sits between
the two: it depends on the record and the fallback origin depends on it, so Pulumi deletes the
fallback origin, then the waiter, then the record. Deleting the waiter polls
GET /zones/{zone_id}/custom_hostnames/fallback_origin until Cloudflare answers 404, reports
`deleted`, or names another record; creating or updating it calls nothing.

It is a Pulumi dynamic provider rather than a resource hook: the engine keeps the pickled provider in
the stack's state and runs it by itself, so a plain `pulumi destroy` (which does not run the
program) performs the wait. Delete hooks live in the program and need `pulumi destroy
--run-program`. Pickling refers to this module by name (`infra.components.fallback_origin_waiter`), which the
provider process imports from the project directory, like `__main__.py` does; the instance holds
only the deadline and poll interval. The API token is read when the delete runs, from
CLOUDFLARE_API_TOKEN (or the stack's `cloudflare:apiToken`, which the engine hands the provider
process), and is never part of the waiter's inputs or state.

Each poll is one request held to SAAS_DOMAINS_REQUEST_TIMEOUT (network_limits: connect, TLS, sending
and every read together), read from the environment the provider process inherits from the pulumi
command; every request, retry and wait of the delete together ends within the deadline plus one
request, so a misbehaving network fails `pulumi destroy` with a message instead of hanging it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.components.provider_api import (
    BASE_URL_VARIABLE,
    Budget,  # network_limits' clock, as the API client uses it
    CloudflareApi,
    CloudflareApiError,
    CloudflareCallingProvider,
    Limits,
    said_plainly,
)

INPUTS = ("zone_id", "hostname")  # plain strings; nothing else is stored besides the pickled provider
DEADLINE_SECONDS = 600.0
POLL_SECONDS = 10.0
PROVIDER_KEY = "__provider"  # the dynamic provider's own input: the pickled provider
GONE_STATUS = "deleted"
FAILED_STATUS = "deletion_timed_out"


class FallbackOriginWaitError(Exception):
    """The fallback origin did not go away; the message says what was seen and what to do."""


class FallbackOriginApiError(FallbackOriginWaitError, CloudflareApiError):
    """Asking Cloudflare failed while waiting (the API client's message, and what it means for the delete)."""


def _log(message: str) -> None:
    # Inside the provider process pulumi.log has no engine and prints "info: ..." to stderr, which
    # the CLI shows as the provider's diagnostics.
    pulumi.log.info(f"fallback-origin waiter: {message}")


def _same_name(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.rstrip(".").lower() == b.rstrip(".").lower()


def wait_until_released(api: CloudflareApi, zone_id: str, hostname: str, *,
                        deadline: float = DEADLINE_SECONDS, interval: float = POLL_SECONDS,
                        clock: Callable[[], float] = time.monotonic,
                        sleep: Callable[[float], None] = time.sleep,
                        log: Callable[[str], None] | None = None) -> str:
    """Poll until the zone's fallback origin is gone or no longer uses `hostname`; say which.

    404 (no fallback origin), status `deleted`, or an origin naming another record end the wait;
    any other state with our hostname (`pending_deletion` above all) means keep waiting, up to
    `deadline` seconds. 429 and 5xx answers are waited out, bounded, by `api.call`.
    """
    log = log or _log
    started = clock()
    while True:
        origin = api.fallback_origin(zone_id)
        elapsed = clock() - started
        if origin is None:
            log(f"the fallback origin of zone {zone_id} is gone after {elapsed:.0f} s; "
                f"{hostname} can be deleted")
            return "gone"
        status = str(origin.get("status") or "unknown")
        if status == GONE_STATUS:
            log(f"the fallback origin {hostname} is {status} after {elapsed:.0f} s")
            return GONE_STATUS
        if not _same_name(origin.get("origin"), hostname):
            log(f"the fallback origin of zone {zone_id} is now {origin.get('origin')!r} ({status}); "
                f"{hostname} is no longer in use")
            return "released"
        if status == FAILED_STATUS:
            raise FallbackOriginWaitError(
                f"Cloudflare reports the fallback origin {hostname} of zone {zone_id} as {status}: its "
                "deletion failed and the DNS record cannot be deleted while it exists. Delete the fallback "
                "origin in the dashboard (SSL/TLS > Custom Hostnames) or with DELETE "
                f"/zones/{zone_id}/custom_hostnames/fallback_origin, then run the same pulumi command again.")
        if elapsed >= deadline:
            hint = (" It was never deleted: is another stack or a person managing it?"
                    if status != "pending_deletion" else "")
            raise FallbackOriginWaitError(
                f"timed out after {elapsed:.0f} s waiting for Cloudflare to delete the fallback origin "
                f"{hostname} of zone {zone_id}: its status is still {status}.{hint} Its DNS record cannot be "
                "deleted before it is gone (API error 1039). Run the same pulumi command again later: the "
                "waiter stays in the stack until it has seen the fallback origin go, and waits again.")
        pause = min(interval, deadline - elapsed)
        log(f"the fallback origin {hostname} is {status} after {elapsed:.0f} s; checking again in "
            f"{pause:.0f} s (giving up after {deadline:.0f} s)")
        sleep(pause)


def waiter_id(zone_id: str, hostname: str) -> str:
    return f"{zone_id}/{hostname}"


class FallbackOriginWaiterProvider(CloudflareCallingProvider):
    """Create and update do nothing remote; delete waits for the fallback origin to be gone."""

    serialize_as_secret_always = False  # holds no secret: the token comes from the environment

    def __init__(self, deadline: float = DEADLINE_SECONDS, interval: float = POLL_SECONDS) -> None:
        super().__init__()
        self.deadline = deadline
        self.interval = interval

    def __getstate__(self) -> dict[str, Any]:
        # What goes into the stack's state: the timing only, never a token.
        return {"deadline": self.deadline, "interval": self.interval}

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(waiter_id(props["zone_id"], props["hostname"]), _outputs(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # A new zone or record name is another fallback origin: replace, deleting first, so the
        # old fallback origin (which depends on this) is deleted and waited for before the record.
        # An unknown value (the engine's stand-in while it plans a replacement of the record)
        # compares unequal and replaces too. A changed provider (new deadline) is an update.
        replaces = [key for key in INPUTS if olds.get(key) != news.get(key)]
        changed = bool(replaces) or olds.get(PROVIDER_KEY) != news.get(PROVIDER_KEY)
        return dynamic.DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(_outputs(news))

    @said_plainly(FallbackOriginWaitError)
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        api = self.api(budget_for=self._budget, notify=lambda message: _log(message), refused=FallbackOriginWaitError,
                       needs="deleting the fallback-origin waiter asks Cloudflare (read-only) whether the "
                             "fallback origin is gone before its DNS record is deleted",
                       permission=f"Zone · SSL and Certificates read ({BASE_URL_VARIABLE} overrides the API "
                                  "address)")
        try:
            wait_until_released(api, props["zone_id"], props["hostname"], deadline=self.deadline,
                                interval=self.interval)
        except FallbackOriginWaitError:
            raise
        except CloudflareApiError as err:
            raise FallbackOriginApiError(
                f"{err}. The fallback-origin waiter could not tell whether the fallback origin "
                f"{props['hostname']} is gone, so its DNS record is left in place: run the same pulumi command "
                "again (it waits again)") from None

    def _budget(self, limits: Limits) -> Budget:
        """The delete's time: its own deadline plus one request, each request held to the request timeout."""
        return Budget(limits, seconds=self.deadline + limits.request_seconds,
                      deadline_name=f"the waiter's deadline of {self.deadline:g} s",
                      advice="run the same pulumi command again later")


def _outputs(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in INPUTS}


class FallbackOriginWaiter(dynamic.Resource):
    """Registers as `pulumi-python:dynamic:Resource` with inputs zone_id and hostname (and __provider)."""

    zone_id: pulumi.Output[str]
    hostname: pulumi.Output[str]

    def __init__(self, name: str, zone_id: pulumi.Input[str], hostname: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None,
                 provider: FallbackOriginWaiterProvider | None = None) -> None:
        # Replacing the waiter means replacing the fallback origin too: delete before replace, so
        # the engine deletes the fallback origin and waits before anything is created again.
        opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(delete_before_replace=True), opts)
        super().__init__(provider or FallbackOriginWaiterProvider(), name,
                         {"zone_id": zone_id, "hostname": hostname}, opts)
