"""Cloudflare edge: fallback and wildcard records proxied; no custom hostname in the SaaS zone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from saas_policies.names import CUSTOM_HOSTNAME, DNS_RECORDS, FALLBACK_ORIGIN
from saas_policies.props import UNKNOWN, _config, _get, _in_zone, _name


def _records(resources: Sequence[Any]) -> list[Any]:
    return [r for r in resources if r.resource_type in DNS_RECORDS]


def _fallback_origins(resources: Sequence[Any]) -> list[str]:
    return [name for r in resources if r.resource_type == FALLBACK_ORIGIN
            for name in [_name(_get(r.props, "origin"))] if isinstance(name, str)]


def _validate_edge_records(args: StackValidationArgs, report: ReportViolation) -> None:
    records = _records(args.resources)
    hostnames = [r for r in args.resources if r.resource_type == CUSTOM_HOSTNAME]
    fallbacks = _fallback_origins(args.resources)
    for record in records:
        name = _name(_get(record.props, "name"))
        if isinstance(name, str) and name.startswith("*.") and _get(record.props, "proxied") is not True:
            report(f"wildcard record {name!r} ({record.name}) is not proxied: customer hostnames pointing at it "
                   "would bypass Cloudflare (no certificate, and the ALB refuses non-Cloudflare addresses).",
                   record.urn)
    if hostnames and not fallbacks and not any(
            r.resource_type == FALLBACK_ORIGIN and _get(r.props, "origin") is UNKNOWN for r in args.resources):
        report("the stack declares custom hostnames but no custom-hostname fallback origin: Cloudflare would "
               "not know where to send their traffic.")
    for fallback in fallbacks:
        named = [r for r in records if _name(_get(r.props, "name")) == fallback]
        if not named:
            report(f"the fallback origin {fallback!r} has no DNS record in this stack; it must be a proxied "
                   "record of the zone.")
        for record in named:
            if _get(record.props, "proxied") is not True:
                report(f"the fallback origin record {fallback!r} ({record.name}) is not proxied; Cloudflare "
                       "requires a proxied record and would expose the ALB otherwise.", record.urn)
        wildcards = [r for r in records if str(_name(_get(r.props, "name"))).startswith("*.")]
        targets = [r for r in wildcards if _name(_get(r.props, "content")) == fallback]
        if not targets and not any(_get(r.props, "content") is UNKNOWN for r in wildcards):
            report(f"no wildcard record points at the fallback origin {fallback!r}: the CNAME targets "
                   "customers are told to use (<id>.<cnameSubdomain>.<zone>) would not resolve.")


edge_records_proxied = StackValidationPolicy(
    name="edge-records-proxied",
    description="The fallback-origin record and the customer wildcard record exist and are proxied.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_edge_records,
)


def saas_zone(args: StackValidationArgs) -> str | None:
    """The SaaS zone: the policy config's `zone`, else the fallback origin minus its first label.

    saas-domains makes the fallback origin `<fallbackSubdomain>.<zone>` and checks that
    `fallbackSubdomain` is a single DNS label, so dropping the first label gives the zone.
    """
    configured = _config(args).get("zone")
    if isinstance(configured, str) and configured.strip():
        return _name(configured)
    zones = {fallback.split(".", 1)[1] for fallback in _fallback_origins(args.resources) if "." in fallback}
    return zones.pop() if len(zones) == 1 else None


def _validate_hostnames_outside_zone(args: StackValidationArgs, report: ReportViolation) -> None:
    hostnames = [r for r in args.resources if r.resource_type == CUSTOM_HOSTNAME]
    if not hostnames:
        return
    zone = saas_zone(args)
    if zone is None:
        report("cannot tell the SaaS zone (no single custom-hostname fallback origin in the stack); set the "
               "policy config `zone` of no-custom-hostname-in-saas-zone.")
        return
    for resource in hostnames:
        name = _name(_get(resource.props, "hostname"))
        if not isinstance(name, str):
            continue
        bare = name[2:] if name.startswith("*.") else name
        if _in_zone(bare, zone) or _in_zone(name, zone):
            if name == zone:
                where = "is the SaaS zone itself"
            elif bare == zone:
                where = f"is a wildcard over the SaaS zone {zone!r}"
            else:
                where = f"is inside the SaaS zone {zone!r}"
            report(f"custom hostname {name!r} {where}: it would shadow the zone's own records "
                   "(the fallback origin, the customers' CNAME targets).", resource.urn)


no_custom_hostname_in_saas_zone = StackValidationPolicy(
    name="no-custom-hostname-in-saas-zone",
    description="No custom hostname is the SaaS zone or a name inside it.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "zone": {"type": "string",
                 "description": "The SaaS zone; by default derived from the fallback origin's name"},
    }),
    validate=_validate_hostnames_outside_zone,
)
