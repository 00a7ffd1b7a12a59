"""Stack settings: one schema shared by the Pulumi program, the offline CLI and Pulumi.yaml.

Pulumi applies the defaults declared in Pulumi.yaml only when the CLI runs the program, not under
mocks or when the CLI reads a stack file itself, so the defaults live here and a test checks that
Pulumi.yaml declares exactly the same keys, types, defaults and descriptions. Each row of SETTINGS
carries its own rules (minimum, choices, check); the few rules that read two settings are
STACK_CHECKS. No Pulumi import: the CLI's `validate` must stay fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.errors import SaasDomainsError
from infra.model.customers import DEFAULT_MAX_HOSTNAMES, ValidationRules
from infra.model.hostnames import in_zone, normalise_hostname
from infra.model.names import PROJECT
from infra.model.removal_guard import DEFAULT_MAX_REMOVALS, RemovalGuard


class SettingsError(SaasDomainsError, ValueError):
    """A stack setting is missing or has a value of the wrong shape."""


class Invalid(ValueError):
    """Raised by a setting's check with the rest of the sentence after the key: "must be ..., got ..."."""


Check = Callable[[Any], Any]  # takes the value of the setting's type, returns it normalised or raises Invalid


class Encrypted:
    """A secret setting as a stack file holds it (`{secure: v1:...}`): set, but only Pulumi can decrypt it.

    The offline CLI reads stack files itself and has no key, so it knows such a setting is set and
    nothing more: its own rules are skipped there, and the program (which Pulumi hands the decrypted
    value) checks them before it declares anything.
    """

    def __repr__(self) -> str:
        return "<encrypted>"


ENCRYPTED = Encrypted()


def is_encrypted(raw: Any) -> bool:
    """A stack-file value `pulumi config set --secret` wrote: a mapping with the ciphertext under `secure`."""
    return isinstance(raw, Mapping) and "secure" in raw


@dataclass(frozen=True)
class Setting:
    """One row of the schema: Pulumi.yaml declares the same key, type, default and description.

    The rules of a single setting sit on its row and run in table order after every value has its
    type: `minimum` for integers, `choices` for strings with a fixed set of values (Pulumi.yaml's
    description names them), and `check` for the rest, which may also normalise the value.
    Rules that read two settings are STACK_CHECKS, below the table.
    """

    key: str
    type: str  # the Pulumi.yaml config type: string | boolean | integer | array
    default: Any
    description: str
    required: bool = False
    minimum: int | None = None
    choices: tuple[str, ...] = ()
    check: Check | None = None
    # A secret (`pulumi config set --secret`): its messages never show the value, a stack file may hold
    # it encrypted, and the offline engine hands the program `offline_placeholder` for an encrypted value.
    secret: bool = False
    offline_placeholder: str | None = None

    def accept(self, value: Any) -> Any:
        """The value this setting keeps, or SettingsError naming the key."""
        if value is ENCRYPTED:
            return value  # only Pulumi can read it; the program checks the decrypted value
        try:
            if self.minimum is not None and value < self.minimum:
                raise Invalid(f"must be {'0 or more' if self.minimum == 0 else f'at least {self.minimum}'}, "
                              f"got {value}")
            if self.choices and value not in self.choices:
                raise Invalid(f"must be one of {', '.join(self.choices)}, got {value!r}")
            return self.check(value) if self.check is not None else value
        except Invalid as err:
            raise SettingsError(f"{PROJECT}:{self.key} {err}") from None


def domain(value: str) -> str:
    """The zone, by the customers file's hostname rules: lower case, IDNA, no final dot."""
    try:
        return ValidationRules(zone=value).zone
    except ValueError as err:
        raise Invalid(f"must be a domain such as mailito.com, got {value!r}: {err}") from None


def dns_label(value: str) -> str:
    label = value.lower()
    if not (0 < len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
            and not label.startswith("-") and not label.endswith("-")):
        raise Invalid(f"must be one DNS label (a-z, 0-9, '-'), got {value!r}")
    return label


def tcp_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise Invalid(f"must be a TCP port, got {value}")
    return value


def absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise Invalid(f"must start with '/', got {value!r}")
    return value


def empty_is_none(value: str) -> str | None:
    """An empty string means "look it up" (zoneId) or "use the default" (vpcId)."""
    return value or None


def hostname_or_none(value: str) -> str | None:
    """A DNS name (normalised as customer hostnames are: lower case, IDNA, no final dot), or None when empty."""
    if not value:
        return None
    try:
        return normalise_hostname(value)
    except ValueError as err:
        raise Invalid(f"must be a hostname such as app.example.com (no scheme, port or path), got {value!r}: "
                      f"{err}") from None


ACCOUNT_ID = re.compile(r"[0-9a-f]{32}")
# What the receiver compares with the cf-webhook-auth header: header-safe characters, long enough to guess never.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9._~+/=-]{32,256}")


def webhook_secret(value: str) -> str | None:
    """The webhook's shared secret, or None (the stack makes one). A secret: no message shows any of it."""
    if not value:
        return None
    if not WEBHOOK_SECRET.fullmatch(value):
        raise Invalid(f"must be 32 to 256 characters of letters, digits and ._~+/=- (got {len(value)} characters "
                      "that are not): e.g. `openssl rand -hex 32`")
    return value


def account_id(value: str) -> str | None:
    """A Cloudflare account id (32 hexadecimal characters, as the dashboard shows it), or None when empty."""
    if not value:
        return None
    if not ACCOUNT_ID.fullmatch(value.lower()):
        raise Invalid(f"must be a Cloudflare account id (32 hexadecimal characters, shown on the account's home "
                      f"page in the dashboard), got {value!r}")
    return value.lower()


def https_url(value: str) -> str | None:
    """An https:// URL with a host, or None when empty. A secret: no message shows any part of it."""
    if not value:
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is not None and parts.scheme.lower() == "https" and host and not any(c.isspace() for c in value):
        return value
    got = ("an http:// URL" if parts is not None and parts.scheme.lower() == "http"
           else "something else")
    raise Invalid(f"must be an https:// URL with a host: Cloudflare sends the webhook's shared secret with every "
                  f"notification, so plain http is refused; got {got} (the value is secret and not shown)")


EMAIL_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _plausible_email(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    labels = domain.lower().split(".")
    return (bool(at) and 0 < len(local) <= 64 and len(address) <= 254 and "@" not in local
            and not any(c.isspace() or ord(c) < 32 for c in address)
            and len(labels) >= 2 and all(EMAIL_LABEL.fullmatch(label) for label in labels))


def email_addresses(addresses: tuple[str, ...]) -> tuple[str, ...]:
    """Plausible e-mail addresses (local@domain.tld), each once (compared without case)."""
    seen: dict[str, int] = {}
    for number, address in enumerate(addresses, start=1):
        if not _plausible_email(address):
            raise Invalid(f"entry {number} must be an e-mail address such as ops@mailito.com, got {address!r}")
        if address.lower() in seen:
            raise Invalid(f"lists {address!r} twice (entries {seen[address.lower()]} and {number})")
        seen[address.lower()] = number
    return addresses


ALL_ROLE, CORE_ROLE, SHARD_ROLE = "all", "core", "shard"
ROLES = (ALL_ROLE, CORE_ROLE, SHARD_ROLE)
ALB_ORIGIN, CLOUD_RUN_ORIGIN, EXTERNAL_ORIGIN = "aws-alb", "gcp-cloud-run", "external"
ORIGINS = (ALB_ORIGIN, CLOUD_RUN_ORIGIN, EXTERNAL_ORIGIN)
TARGET_TYPES = ("ip", "instance", "lambda")
# Used by infra/components/origin_auth.py; kept here so `validate` needs no Pulumi.
ORIGIN_AUTH_MODES = ("header", "mtls", "none")
OWN_TRANSFORM_RULES, SHARED_TRANSFORM_RULES = "own", "shared"
TRANSFORM_RULES = (OWN_TRANSFORM_RULES, SHARED_TRANSFORM_RULES)

SETTINGS: tuple[Setting, ...] = (
    Setting("zone", "string", None, "The SaaS zone apex in Cloudflare, e.g. mailito.com.", required=True,
            check=domain),
    Setting("role", "string", ALL_ROLE,
            "What this stack declares: all (one stack for the zone), core (origin, origin authentication, edge "
            "and zone-wide settings; no customer hostnames) or shard (its share of the customer hostnames).",
            choices=ROLES),
    Setting("coreStack", "string", "",
            "shard: the core stack's fully qualified name (organization/project/stack), read by a stack reference.",
            check=empty_is_none),
    Setting("shard", "integer", 0, "shard: this stack's index, 0 to shards - 1.", minimum=0),
    Setting("shards", "integer", 1, "shard: how many shard stacks the zone's customers are spread over.",
            minimum=1),
    Setting("origin", "string", ALB_ORIGIN,
            "Where Cloudflare sends customer traffic: aws-alb (an ALB), gcp-cloud-run (a Cloud Run service "
            "behind a global external load balancer) or external (an origin of your own, at originHostname).",
            choices=ORIGINS),
    Setting("cloudRunService", "string", "",
            "gcp-cloud-run: the Cloud Run service's name (required for that origin).", check=empty_is_none),
    Setting("cloudRunRegion", "string", "",
            "gcp-cloud-run: the Cloud Run service's region, e.g. europe-west1 (required for that origin).",
            check=empty_is_none),
    Setting("originHostname", "string", "",
            "external: the existing origin's DNS name, e.g. ingress.example.com (required for that origin); the "
            "fallback record is a proxied CNAME to it.", check=hostname_or_none),
    Setting("zoneId", "string", "", "Cloudflare zone id; empty means one get_zone lookup by name.",
            check=empty_is_none),
    Setting("fallbackSubdomain", "string", "proxy-fallback",
            "Label of the fallback origin record: <fallbackSubdomain>.<zone> points at the ALB.", check=dns_label),
    Setting("cnameSubdomain", "string", "cname",
            "Label under which customers point their CNAMEs: <customer id>.<cnameSubdomain>.<zone>.",
            check=dns_label),
    Setting("customersFile", "string", "customers.yaml",
            "Customers file, relative to the project root (an absolute path works too)."),
    Setting("allowWildcards", "boolean", False,
            "Accept wildcard customer hostnames (*.example.com); a Cloudflare Enterprise feature."),
    Setting("maxHostnames", "integer", DEFAULT_MAX_HOSTNAMES,
            "Refuse a customers file with more hostnames than this (Cloudflare's default quota).", minimum=1),
    Setting("maxRemovals", "integer", DEFAULT_MAX_REMOVALS,
            "Refuse a deploy or change that deletes more custom hostnames than this without confirmation.",
            minimum=0),
    Setting("allowRemovals", "integer", 0,
            "One-off confirmation: let this deploy delete up to this many custom hostnames. Reset to 0 after.",
            minimum=0),
    Setting("originAuth", "string", "header",
            "How the ALB knows a request came through this zone: header (secret header), mtls "
            "(Authenticated Origin Pulls with our own CA) or none.", choices=ORIGIN_AUTH_MODES),
    Setting("transformRules", "string", OWN_TRANSFORM_RULES,
            "originAuth header: own (the stack creates the zone's request-header Transform Rules and owns them) "
            "or shared (the zone has some already, e.g. made in the dashboard: the stack adds its one rule to "
            "them and removes only that).", choices=TRANSFORM_RULES),
    Setting("manageZoneSslMode", "boolean", True,
            "Set the zone's SSL/TLS mode to Full, which the ALB origin needs (see docs/operators.md)."),
    Setting("vpcId", "string", "", "VPC for the ALB; empty means the account's default VPC. Set with subnetIds.",
            check=empty_is_none),
    Setting("subnetIds", "array", [],
            "Public subnets of vpcId for the ALB (two AZs or more); empty means the default VPC's default subnets."),
    Setting("targetPort", "integer", 80, "Port the application listens on behind the ALB.", check=tcp_port),
    Setting("targetType", "string", "ip", "Target group target type: ip, instance or lambda.",
            choices=TARGET_TYPES),
    Setting("healthCheckPath", "string", "/", "HTTP path the ALB health check requests.", check=absolute_path),
    Setting("sslPolicy", "string", "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "TLS policy of the HTTPS listener (TLS 1.2 and 1.3 only)."),
    Setting("deletionProtection", "boolean", True, "ALB deletion protection."),
    Setting("accountId", "string", "",
            "Cloudflare account id (32 hexadecimal characters) of the certificate alerts; set only with "
            "alertWebhookUrl and/or alertEmails (roles all and core).", check=account_id),
    Setting("alertWebhookUrl", "string", "",
            "Secret (pulumi config set --secret): https URL that receives the custom-hostname certificate alerts "
            "as a Cloudflare webhook; needs accountId.", check=https_url, secret=True,
            offline_placeholder="https://alerts.invalid/offline-placeholder"),
    Setting("alertWebhookSecret", "string", "",
            "Secret (pulumi config set --secret): the value Cloudflare sends in the cf-webhook-auth header to "
            "alertWebhookUrl, e.g. `openssl rand -hex 32`; empty means the stack makes one (output "
            "alertWebhookSecret). Set it to configure the receiver before the first up, and to rotate it.",
            check=webhook_secret, secret=True, offline_placeholder="offline-placeholder-webhook-secret-0123456789"),
    Setting("alertEmails", "array", [],
            "E-mail addresses that receive the custom-hostname certificate alerts; needs accountId.",
            check=email_addresses),
)


def shard_is_placed(values: Mapping[str, Any]) -> str | None:
    if values["role"] != SHARD_ROLE:
        return None
    if not values["coreStack"]:
        return (f"{PROJECT}:role shard needs {PROJECT}:coreStack, the core stack's fully qualified name "
                "(organization/project/stack), whose outputs give the zone id")
    if values["shard"] >= values["shards"]:
        return (f"{PROJECT}:shard must be below {PROJECT}:shards (0 to {values['shards'] - 1}), "
                f"got {values['shard']}")
    return None


def cloud_run_service_named(values: Mapping[str, Any]) -> str | None:
    if values["origin"] != CLOUD_RUN_ORIGIN:
        return None
    missing = [key for key in ("cloudRunService", "cloudRunRegion") if not values[key]]
    if missing:
        return (f"{PROJECT}:origin gcp-cloud-run needs {' and '.join(f'{PROJECT}:{k}' for k in missing)}: the "
                "Cloud Run service behind the load balancer, e.g. `pulumi config set "
                f"{PROJECT}:{missing[0]} ...` (and gcp:project for the Google Cloud project)")
    return None


def external_origin_named(values: Mapping[str, Any]) -> str | None:
    """origin external needs originHostname, which must not lead back into this zone's customer records."""
    hostname, key = values["originHostname"], f"{PROJECT}:originHostname"
    if values["origin"] != EXTERNAL_ORIGIN:
        if hostname:
            return (f"{key} is read only with {PROJECT}:origin external (this stack's origin is "
                    f"{values['origin']}): remove it, or set the origin to external")
        return None
    if not hostname:
        return (f"{PROJECT}:origin external needs {key}, the DNS name of your existing origin (a load balancer, "
                f"a PaaS app, a Kubernetes ingress), e.g. `pulumi config set {key} ingress.example.com`")
    fallback = f"{values['fallbackSubdomain']}.{values['zone']}"
    cname_domain = f"{values['cnameSubdomain']}.{values['zone']}"
    if hostname == fallback or in_zone(hostname, cname_domain):
        what = "the fallback record" if hostname == fallback else f"under the customers' CNAME domain {cname_domain}"
        return (f"{key} {hostname!r} is {what}, which points at the origin: Cloudflare would loop. Give the "
                "origin's own name")
    return None


def vpc_with_subnets(values: Mapping[str, Any]) -> str | None:
    if bool(values["vpcId"]) != bool(values["subnetIds"]):
        return (f"{PROJECT}:vpcId and {PROJECT}:subnetIds go together: set both (public subnets of "
                "that VPC in at least two AZs) or neither (the default VPC and its default subnets)")
    return None


# ACM RequestCertificate: "The first domain name you enter cannot exceed 64 octets, including periods."
MAX_CERTIFICATE_NAME = 64


def fallback_name_fits_a_certificate(values: Mapping[str, Any]) -> str | None:
    if values["origin"] != ALB_ORIGIN:
        return None  # an ACM rule; Certificate Manager certifies the name for the Cloud Run origin
    fallback_hostname = f"{values['fallbackSubdomain']}.{values['zone']}"
    if len(fallback_hostname) > MAX_CERTIFICATE_NAME:
        return (f"{PROJECT}:fallbackSubdomain and {PROJECT}:zone make {fallback_hostname!r} "
                f"({len(fallback_hostname)} characters), the name of the origin's certificate; ACM refuses a "
                f"first domain name over {MAX_CERTIFICATE_NAME} characters: choose a shorter fallbackSubdomain")
    return None


ALERT_SETTINGS = ("accountId", "alertWebhookUrl", "alertEmails")


def alerts_are_complete(values: Mapping[str, Any]) -> str | None:
    """An account and at least one destination, or nothing; never on a shard (alerts are account-wide)."""
    configured = [key for key in ALERT_SETTINGS if values[key]]
    if not configured:
        return None
    if values["role"] == SHARD_ROLE:
        return (f"{' and '.join(f'{PROJECT}:{key}' for key in configured)} cannot be set on a shard: alerts are "
                "account-wide: the core stack declares them (set them in the core's stack file)")
    if not values["accountId"]:
        return (f"{' and '.join(f'{PROJECT}:{key}' for key in configured)} "
                f"{'needs' if len(configured) == 1 else 'need'} {PROJECT}:accountId, the "
                "Cloudflare account the notification policy belongs to (32 hexadecimal characters): "
                f"`pulumi config set {PROJECT}:accountId <account id>`")
    if values["alertWebhookSecret"] and not values["alertWebhookUrl"]:
        return (f"{PROJECT}:alertWebhookSecret is the webhook's: it needs {PROJECT}:alertWebhookUrl (or remove it)")
    if not (values["alertWebhookUrl"] or values["alertEmails"]):
        return (f"{PROJECT}:accountId alone declares no alert: set {PROJECT}:alertWebhookUrl (with --secret) "
                f"and/or {PROJECT}:alertEmails, or remove {PROJECT}:accountId")
    return None


# Rules that read more than one setting: each gets the checked values by key and returns the error, if any.
STACK_CHECKS: tuple[Callable[[Mapping[str, Any]], str | None], ...] = (
    shard_is_placed,
    cloud_run_service_named,
    external_origin_named,
    vpc_with_subnets,
    fallback_name_fits_a_certificate,
    alerts_are_complete,
)


@dataclass(frozen=True)
class StackSettings:
    """The validated settings; built only by settings_from, so the defaults live in SETTINGS alone."""

    zone: str
    role: str
    core_stack: str | None
    shard: int
    shards: int
    origin: str
    cloud_run_service: str | None
    cloud_run_region: str | None
    origin_hostname: str | None
    zone_id: str | None
    fallback_subdomain: str
    cname_subdomain: str
    customers_file: str
    allow_wildcards: bool
    max_hostnames: int
    max_removals: int
    allow_removals: int
    origin_auth: str
    transform_rules: str
    manage_zone_ssl_mode: bool
    vpc_id: str | None
    subnet_ids: tuple[str, ...]
    target_port: int
    target_type: str
    health_check_path: str
    ssl_policy: str
    deletion_protection: bool
    account_id: str | None
    alert_webhook_url: str | Encrypted | None = field(repr=False)  # a secret: never print it
    alert_webhook_secret: str | Encrypted | None = field(repr=False)  # a secret: never print it
    alert_emails: tuple[str, ...]

    @property
    def fallback_hostname(self) -> str:
        return f"{self.fallback_subdomain}.{self.zone}"

    @property
    def cname_domain(self) -> str:
        return f"{self.cname_subdomain}.{self.zone}"

    def cname_target(self, customer_id: str) -> str:
        """Where a customer's hostnames point; the wildcard record covers every customer id."""
        return f"{customer_id}.{self.cname_domain}"

    def customers_path(self, project_dir: Path) -> Path:
        return Path(project_dir) / self.customers_file  # an absolute customers_file wins

    @property
    def removal_guard(self) -> RemovalGuard:
        return RemovalGuard(max_removals=self.max_removals, allow_removals=self.allow_removals)

    @property
    def declares_alerts(self) -> bool:
        """Certificate alerts are configured (the stack checks make that an account and a destination)."""
        return self.account_id is not None

    def validation_rules(self) -> ValidationRules:
        return ValidationRules(zone=self.zone, allow_wildcards=self.allow_wildcards,
                               max_hostnames=self.max_hostnames)


def _coerce(setting: Setting, raw: Any) -> Any:
    """Accept a value as Pulumi config holds it (always a string) or as YAML typed it."""
    where = f"{PROJECT}:{setting.key}"
    if setting.secret and is_encrypted(raw):
        return ENCRYPTED
    if setting.type == "string":
        if not isinstance(raw, str):
            raise SettingsError(f"{where} must be a string, got "
                                f"{'a ' + type(raw).__name__ if setting.secret else repr(raw)}")
        return raw.strip()
    if setting.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise SettingsError(f"{where} must be true or false, got {raw!r}")
    if setting.type == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw)
        raise SettingsError(f"{where} must be a whole number, got {raw!r}")
    if setting.type == "array":
        value = raw
        if isinstance(raw, str):
            try:
                value = json.loads(raw) if raw.strip() else []
            except json.JSONDecodeError:
                raise SettingsError(f"{where} must be a list of strings, got {raw!r}") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{where} must be a list of strings, got {raw!r}")
        return tuple(v.strip() for v in value)
    raise AssertionError(setting.type)


def settings_from(get: Callable[[str], Any]) -> StackSettings:
    """Build settings from a lookup of the bare key (no project prefix) that returns None when unset."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = get(setting.key)
        if raw is None:
            if setting.required:
                raise SettingsError(
                    f"{PROJECT}:{setting.key} is required: {setting.description} "
                    f"Set it with `pulumi config set {PROJECT}:{setting.key} <value>`.")
            values[setting.key] = _coerce(setting, setting.default)
        else:
            values[setting.key] = _coerce(setting, raw)
    for setting in SETTINGS:
        values[setting.key] = setting.accept(values[setting.key])
    for stack_check in STACK_CHECKS:
        if (error := stack_check(values)) is not None:
            raise SettingsError(error)
    return StackSettings(**{_attribute(key): value for key, value in values.items()})


def _attribute(key: str) -> str:
    """The StackSettings field of a config key: maxHostnames -> max_hostnames."""
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def settings_from_stack_config(config: Mapping[str, Any]) -> StackSettings:
    """Settings from a `config:` mapping as written in Pulumi.<stack>.yaml (keys carry the project prefix)."""
    prefix = f"{PROJECT}:"
    return settings_from(lambda key: config.get(prefix + key))
