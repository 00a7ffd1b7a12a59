"""The customers file's model: what a valid customers.yaml means, with no YAML, Pulumi or network.

Every problem in a file is a `Problem` (file, line, customer entry, message); `CustomersFileError`
carries them all, so a person fixes a file in one go.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from infra.model.hostnames import normalise_hostname

DEFAULT_MAX_HOSTNAMES = 5000

ALLOWED_SSL_METHODS = ("http", "txt")
# Cloudflare retired e-mail and CNAME DCV with DigiCert: "CNAME and Email DCV will be deprecated.
# Customers will be required to use HTTP or TXT DCV" (SSL docs, DigiCert offboarding, custom hostnames).
RETIRED_SSL_METHODS = ("email", "cname")
ALLOWED_SSL_TYPES = ("dv",)
ALLOWED_MIN_TLS_VERSIONS = ("1.2", "1.3")
REJECTED_MIN_TLS_VERSIONS = ("1.0", "1.1")  # valid for Cloudflare, below our floor
ALLOWED_CERTIFICATE_AUTHORITIES = ("google", "lets_encrypt", "ssl_com")
ALLOWED_BUNDLE_METHODS = ("ubiquitous", "optimal", "force")
ALLOWED_ON_OFF = ("on", "off")

ALLOW_WILDCARDS_SETTING = "saas-domains:allowWildcards"
MAX_HOSTNAMES_SETTING = "saas-domains:maxHostnames"

TOP_LEVEL_KEYS = ("defaults", "customers")
DEFAULTS_KEYS = ("ssl", "metadata", "origin")
CUSTOMER_KEYS = ("id", "hostnames", "ssl", "metadata", "origin")

MAX_PROBLEMS_SHOWN = 200  # a readable message; CustomersFileError.problems keeps every one
_MAX_LABEL_LENGTH = 63


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


@dataclass(frozen=True)
class SslSettings:
    """Cloudflare custom hostname ``ssl`` block.

    Every field has an explicit default (not None where avoidable) because the
    Pulumi provider shows drift for ssl fields left unset.
    """

    method: str = "http"
    type: str = "dv"
    min_tls_version: str = "1.2"
    certificate_authority: str | None = None
    bundle_method: str = "ubiquitous"
    wildcard: bool = False
    ciphers: tuple[str, ...] | None = None
    http2: str = "on"
    tls13: str = "on"
    early_hints: str = "off"


SSL_KEYS = tuple(f.name for f in dataclasses.fields(SslSettings))


@dataclass(frozen=True)
class CustomerHostname:
    """One Cloudflare custom hostname, with the customer's merged settings."""

    hostname: str
    customer_id: str
    ssl: SslSettings
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


class CustomersFileError(ValueError):
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
