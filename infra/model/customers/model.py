"""The customers file's model: what a valid customers.yaml means, with no YAML, Pulumi or network.

Every problem in a file is a `Problem` (file, line, customer entry, message); `CustomersFileError`
carries them all, so a person fixes a file in one go.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from infra.errors import SaasDomainsError
from infra.model.customers.ssl_fields import SSL_FIELD
from infra.model.hostnames import normalise_hostname

DEFAULT_MAX_HOSTNAMES = 5000

# The values the file accepts, for callers that name one field (the table holds every field's).
ALLOWED_SSL_METHODS = SSL_FIELD["method"].allowed
ALLOWED_SSL_TYPES = SSL_FIELD["type"].allowed
ALLOWED_MIN_TLS_VERSIONS = SSL_FIELD["min_tls_version"].allowed
ALLOWED_CERTIFICATE_AUTHORITIES = SSL_FIELD["certificate_authority"].allowed
ALLOWED_BUNDLE_METHODS = SSL_FIELD["bundle_method"].allowed

ALLOW_WILDCARDS_SETTING = "saas-domains:allowWildcards"
MAX_HOSTNAMES_SETTING = "saas-domains:maxHostnames"

TOP_LEVEL_KEYS = ("defaults", "customers")
DEFAULTS_KEYS = ("ssl", "metadata", "origin")
CUSTOMER_KEYS = ("id", "hostnames", "ssl", "metadata", "origin")

MAX_PROBLEMS_SHOWN = 200  # a readable message; CustomersFileError.problems keeps every one


# --------------------------------------------------------------------------
# Public model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationRules:
    """Stack-dependent rules; the zone is normalised so comparisons are exact."""

    zone: str
    allow_wildcards: bool = False
    max_hostnames: int = DEFAULT_MAX_HOSTNAMES

    def __post_init__(self) -> None:
        try:
            zone = normalise_hostname(self.zone)
        except ValueError as exc:
            raise ValueError(f"invalid SaaS zone {self.zone!r}: {exc}") from None
        object.__setattr__(self, "zone", zone)
        if not isinstance(self.allow_wildcards, bool):
            raise TypeError("allow_wildcards must be a bool")
        if (
            not isinstance(self.max_hostnames, int)
            or isinstance(self.max_hostnames, bool)
            or self.max_hostnames < 0
        ):
            raise ValueError(f"max_hostnames must be a non-negative int, got {self.max_hostnames!r}")


def _default(key: str) -> Any:
    return SSL_FIELD[key].default


@dataclass(frozen=True)
class HostnameSsl:
    """One custom hostname's ``ssl`` block, every field resolved (the entry's keys over the defaults').

    Named after what it is, not "settings": in Cloudflare's API and the provider, ``settings`` is the
    block's nested object (min TLS version, http2, tls13, early hints, ciphers). Every field has an
    explicit default (not None where avoidable) because the Pulumi provider shows drift for ssl fields
    left unset. The fields and their defaults are the rows of `ssl_fields.SSL_FIELDS`, in its order.
    """

    method: str = _default("method")
    type: str = _default("type")
    min_tls_version: str = _default("min_tls_version")
    certificate_authority: str | None = _default("certificate_authority")
    bundle_method: str = _default("bundle_method")
    wildcard: bool = _default("wildcard")
    ciphers: tuple[str, ...] | None = _default("ciphers")
    http2: str = _default("http2")
    tls13: str = _default("tls13")
    early_hints: str = _default("early_hints")


@dataclass(frozen=True)
class EntryOverrides:
    """What a customer entry, or the file's `defaults`, sets itself: ssl keys, metadata and origin.

    The validator reads them from the file and lays each entry's over the defaults'; the importer works
    out the ones a new entry needs so the file gives a hostname what it has in Cloudflare. Pairs, not
    dicts, so equal overrides are equal and hashable (the importer groups hostnames by them).
    """

    ssl: tuple[tuple[str, Any], ...] = ()  # ssl keys set, each with a valid value
    metadata: tuple[tuple[str, str], ...] = ()
    origin: str | None = None  # None: not set (or, from the file, not valid)

    @property
    def ssl_dict(self) -> dict[str, Any]:
        return dict(self.ssl)

    @property
    def metadata_dict(self) -> dict[str, str]:
        return dict(self.metadata)


@dataclass(frozen=True)
class CustomerHostname:
    """One Cloudflare custom hostname, with the customer's merged settings."""

    hostname: str
    customer_id: str
    ssl: HostnameSsl
    metadata: tuple[tuple[str, str], ...]
    origin: str | None
    line: int

    @property
    def metadata_dict(self) -> dict[str, str]:
        return dict(self.metadata)


@dataclass(frozen=True)
class Customer:
    """One customer entry; ``line`` points at the entry for messages and reviews."""

    id: str
    hostnames: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class CustomersFile:
    """The validated file: customers in file order, hostnames sorted for stable diffs."""

    path: str
    customers: tuple[Customer, ...]
    hostnames: tuple[CustomerHostname, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, located precisely enough to fix it."""

    path: str
    line: int | None
    entry: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.path if self.line is None else f"{self.path}:{self.line}"]
        if self.entry:
            parts.append(self.entry)
        parts.append(self.message)
        return ": ".join(parts)


class CustomersFileError(SaasDomainsError, ValueError):
    """The customers file is invalid; carries every problem found, sorted by line."""

    def __init__(self, path: str, problems: Iterable[Problem]) -> None:
        self.path = path
        self.problems: tuple[Problem, ...] = tuple(
            sorted(problems, key=lambda p: (p.line is not None, p.line or 0))
        )
        super().__init__(path, self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.path}: {count} {noun}, no change was made:"]
        lines.extend(f"  {problem}" for problem in self.problems[:MAX_PROBLEMS_SHOWN])
        if count > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {count - MAX_PROBLEMS_SHOWN} more problems "
                         "(`saas-domains validate --json` lists them all)")
        return "\n".join(lines)
