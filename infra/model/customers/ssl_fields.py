"""The SSL fields of a custom hostname, one row each: the single table validation, import and the resource read.

Like terraform-provider-cloudflare's `schema.go`, each row says everything about one field: its key in
the customers file (also the attribute of `model.HostnameSsl`, a hostname's resolved block), where
Cloudflare's API keeps it in a custom hostname's `ssl` object, the provider input it is sent as, the
values the file accepts, the values Cloudflare has that the file refuses (with why), and the default.
Validation (`values.py`), the model's defaults (`model.py`), the importer (`infra/operations/import_.py`)
and the resource's arguments (`infra/components/customer_hostnames.py`) all iterate this table;
tests/model/test_ssl_fields.py holds it to the locked provider SDK's schema and to Cloudflare's API spec.

Pure: no Pulumi, no YAML, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# What a field's value is, which decides how the file's YAML is read and checked (values.py).
CHOICE = "choice"  # one string of `allowed`
ON_OFF = "on/off"  # "on" or "off"; YAML 1.1 reads them bare as booleans, which is accepted
TLS_VERSION = "TLS version"  # one string of `allowed`; YAML reads it bare as a number, which is refused
BOOLEAN = "boolean"  # true or false
NAMES = "list of names"  # a non-empty list of non-empty strings (Cloudflare's cipher names)

# Cloudflare retired e-mail and CNAME DCV with DigiCert: "CNAME and Email DCV will be deprecated.
# Customers will be required to use HTTP or TXT DCV" (SSL docs, DigiCert offboarding, custom hostnames).
_RETIRED_DCV = ("validation is retired: Cloudflare dropped e-mail and CNAME DCV with DigiCert; "
                "use http (the default) or txt")
_BELOW_TLS_FLOOR = "TLS {version} is below the project's minimum of TLS 1.2; use \"1.2\" or \"1.3\""


@dataclass(frozen=True)
class SslField:
    """One SSL field of a custom hostname."""

    key: str  # the customers file's key under `ssl`, and the attribute of HostnameSsl
    api_path: tuple[str, ...]  # where the API's custom-hostname `ssl` object holds it
    input_path: tuple[str, ...]  # the provider's input under `ssl`, schema (camelCase) names
    kind: str  # CHOICE, ON_OFF, TLS_VERSION, BOOLEAN or NAMES
    allowed: tuple[Any, ...] | None  # the values the file accepts; None: any names Cloudflare knows
    default: Any  # what the file gives when neither the defaults nor the entry set it
    refused: Mapping[str, str] = field(default_factory=lambda: _frozen({}))  # value Cloudflare has (had) -> why not
    nullable: bool = False  # the file accepts null: Cloudflare decides
    null_matches_any: bool = False  # ...and whatever Cloudflare then reports is what the file means

    @property
    def python_arg(self) -> str:
        """The keyword of the SDK's args class: `minTlsVersion` -> `min_tls_version`."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.input_path[-1]).lower()

    @property
    def in_settings(self) -> bool:
        """Whether the provider takes it in the nested `ssl.settings` object."""
        return self.input_path[0] == "settings"

    @property
    def quoted(self) -> bool:
        """Written quoted by the importer, because YAML 1.1 reads its bare values as numbers or booleans."""
        return self.kind in (ON_OFF, TLS_VERSION)

    def refusal(self, value: str) -> str | None:
        """Why the file refuses a value Cloudflare has, or None."""
        reason = self.refused.get(value)
        return None if reason is None else reason.format(version=value)


def _frozen(mapping: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(mapping)


_ON_OFF_VALUES = ("on", "off")

# Each row: file key, API path under `ssl`, provider input under `ssl`, kind, accepted values, default; then
# the values refused with a reason, and whether null is accepted. The order is the file's documented order.
SSL_FIELDS: tuple[SslField, ...] = (
    SslField("method", ("method",), ("method",), CHOICE, ("http", "txt"), "http",
             refused=_frozen({"email": _RETIRED_DCV, "cname": _RETIRED_DCV})),
    SslField("type", ("type",), ("type",), CHOICE, ("dv",), "dv"),
    SslField("min_tls_version", ("settings", "min_tls_version"), ("settings", "minTlsVersion"), TLS_VERSION,
             ("1.2", "1.3"), "1.2", refused=_frozen({"1.0": _BELOW_TLS_FLOOR, "1.1": _BELOW_TLS_FLOOR})),
    SslField("certificate_authority", ("certificate_authority",), ("certificateAuthority",), CHOICE,
             ("google", "lets_encrypt", "ssl_com"), None, nullable=True, null_matches_any=True),
    SslField("bundle_method", ("bundle_method",), ("bundleMethod",), CHOICE,
             ("ubiquitous", "optimal", "force"), "ubiquitous"),
    SslField("wildcard", ("wildcard",), ("wildcard",), BOOLEAN, (True, False), False),
    SslField("ciphers", ("settings", "ciphers"), ("settings", "ciphers"), NAMES, None, None, nullable=True),
    SslField("http2", ("settings", "http2"), ("settings", "http2"), ON_OFF, _ON_OFF_VALUES, "on"),
    SslField("tls13", ("settings", "tls_1_3"), ("settings", "tls13"), ON_OFF, _ON_OFF_VALUES, "on"),
    SslField("early_hints", ("settings", "early_hints"), ("settings", "earlyHints"), ON_OFF, _ON_OFF_VALUES, "off"),
)

SSL_FIELD: Mapping[str, SslField] = MappingProxyType({f.key: f for f in SSL_FIELDS})
SSL_KEYS = tuple(f.key for f in SSL_FIELDS)
