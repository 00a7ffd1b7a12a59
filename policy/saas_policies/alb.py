"""ALB: Cloudflare-only ingress, modern TLS, HTTP only redirects."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from saas_policies.names import (
    CLOUDFLARE_IPV4,
    CLOUDFLARE_IPV6,
    LISTENERS,
    MODERN_SSL_POLICY,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    VPC_INGRESS_RULE,
)
from saas_policies.props import UNKNOWN, _config, _get, _is_list, _items, _listener_protocol


def _cloudflare_networks(config: Mapping[str, Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    ipv4 = config.get("cloudflareIpv4Cidrs") or CLOUDFLARE_IPV4
    ipv6 = config.get("cloudflareIpv6Cidrs") or CLOUDFLARE_IPV6
    return [ipaddress.ip_network(cidr, strict=False) for cidr in (*ipv4, *ipv6)]


def _outside_cloudflare(cidrs: Iterable[Any], networks: list) -> list[str]:
    """The CIDRs (known ones) that are not inside one of Cloudflare's ranges."""
    outside = []
    for cidr in cidrs:
        if cidr is UNKNOWN or cidr is None:
            continue
        try:
            network = ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            outside.append(f"{cidr} (not a CIDR)")
            continue
        if not any(network.version == cf.version and network.subnet_of(cf) for cf in networks):
            outside.append(str(cidr))
    return outside


def _ingress_problems(rule: Mapping[str, Any], networks: list) -> list[str]:
    """What in one ingress rule admits traffic from somewhere other than Cloudflare."""
    problems = []
    cidrs = [*_items(_get(rule, "cidrBlocks")), *_items(_get(rule, "ipv6CidrBlocks"))]
    cidrs += [_get(rule, "cidrIpv4"), _get(rule, "cidrIpv6")]  # aws.vpc.SecurityGroupIngressRule
    outside = _outside_cloudflare(cidrs, networks)
    if outside:
        problems.append(f"addresses outside Cloudflare's ranges: {', '.join(outside)}")
    for key in ("securityGroups", "prefixListIds", "sourceSecurityGroupId", "prefixListId",
                "referencedSecurityGroupId"):
        value = _get(rule, key)
        if value not in (None, UNKNOWN) and (not _is_list(value) or len(value)):
            problems.append(f"{key} (a source that is not Cloudflare's published ranges)")
    if _get(rule, "self") is True:
        problems.append("self = true (any member of the group)")
    return problems


def _validate_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    networks = _cloudflare_networks(_config(args))
    if args.resource_type == SECURITY_GROUP:
        rules = _items(_get(args.props, "ingress"))
        where = [f"ingress[{index}]" for index in range(len(rules))]
    elif args.resource_type == SECURITY_GROUP_RULE:
        if _get(args.props, "type") != "ingress":
            return
        rules, where = [args.props], ["the rule"]
    elif args.resource_type == VPC_INGRESS_RULE:
        rules, where = [args.props], ["the rule"]
    else:
        return
    for rule, place in zip(rules, where, strict=True):
        if not isinstance(rule, Mapping):
            continue
        for problem in _ingress_problems(rule, networks):
            report(f"{args.resource_type.rsplit(':', 1)[-1]} {args.name!r} {place} admits {problem}; "
                   "the ALB must be reachable only through Cloudflare.")


# Both Cloudflare-only policies (ALB ingress, Cloud Armor) take the same optional replacement ranges.
CLOUDFLARE_RANGES_CONFIG = PolicyConfigSchema(properties={
    "cloudflareIpv4Cidrs": {"type": "array", "items": {"type": "string"},
                            "description": "Replaces the built-in copy of https://www.cloudflare.com/ips-v4"},
    "cloudflareIpv6Cidrs": {"type": "array", "items": {"type": "string"},
                            "description": "Replaces the built-in copy of https://www.cloudflare.com/ips-v6"},
})


alb_ingress_cloudflare_only = ResourceValidationPolicy(
    name="alb-ingress-cloudflare-only",
    description="Security group ingress admits only Cloudflare's published IPv4/IPv6 ranges "
                "(no 0.0.0.0/0, other CIDRs, security groups, prefix lists or self).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CLOUDFLARE_RANGES_CONFIG,
    validate=_validate_ingress,
)


def _validate_https_listener_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LISTENERS or _listener_protocol(args.props) != "HTTPS":
        return
    policy = _get(args.props, "sslPolicy")
    if policy is UNKNOWN:
        return
    accepted = _config(args).get("allowedSslPolicies")
    if policy is None:
        report(f"HTTPS listener {args.name!r} sets no sslPolicy; AWS's default (ELBSecurityPolicy-2016-08) "
               "accepts TLS 1.0. Use ELBSecurityPolicy-TLS13-1-2-2021-06.")
    elif not (policy in accepted if accepted else MODERN_SSL_POLICY.match(policy)):
        report(f"HTTPS listener {args.name!r} uses {policy}, which is not a TLS 1.2+ policy; "
               "use ELBSecurityPolicy-TLS13-1-2-2021-06 (or another TLS13-1-2/TLS13-1-3 policy).")


https_listener_modern_tls = ResourceValidationPolicy(
    name="https-listener-modern-tls",
    description="HTTPS listeners use an ELB TLS policy whose minimum is TLS 1.2.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "allowedSslPolicies": {"type": "array", "items": {"type": "string"},
                               "description": "Exact policy names to accept instead of the TLS 1.2+ name pattern"},
    }),
    validate=_validate_https_listener_tls,
)


def _validate_http_listener_redirects(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LISTENERS:
        return
    protocol = _listener_protocol(args.props)
    if protocol is None:  # what AWS assumes for an application load balancer's listener
        protocol = "HTTP" if _get(args.props, "certificateArn") is None else "HTTPS"
    if protocol != "HTTP":
        return
    for index, action in enumerate(_items(_get(args.props, "defaultActions"))):
        if action is UNKNOWN or not isinstance(action, Mapping):
            continue
        kind = _get(action, "type")
        if kind in ("fixed-response", UNKNOWN):
            continue
        if kind == "redirect":
            target = _get(action, "redirect", "protocol")
            if target not in ("HTTPS", UNKNOWN):
                report(f"HTTP listener {args.name!r} defaultActions[{index}] redirects to "
                       f"{target or '#{protocol}'} instead of HTTPS.")
            continue
        report(f"HTTP listener {args.name!r} defaultActions[{index}] is {kind!r}; a plain-HTTP listener must "
               "only redirect to HTTPS (anything else serves the application unencrypted and bypasses the "
               "origin authentication of the HTTPS listener).")


http_listener_redirects_to_https = ResourceValidationPolicy(
    name="http-listener-redirects-to-https",
    description="Listeners that are not HTTPS only redirect to HTTPS (or answer with a fixed response).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_http_listener_redirects,
)
