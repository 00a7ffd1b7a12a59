"""Google Cloud load balancer: Cloudflare-only Cloud Armor, TLS 1.2+, HTTP only redirects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from saas_policies.alb import CLOUDFLARE_RANGES_CONFIG, _cloudflare_networks, _outside_cloudflare
from saas_policies.names import (
    _ARMOR_IP_RANGE,
    ARMOR_ADMITTING_ACTIONS,
    ARMOR_DEFAULT_PRIORITY,
    GCP_ACCEPTED_MIN_TLS_VERSIONS,
    GCP_BACKEND_SERVICE,
    GCP_HTTP_PROXY,
    GCP_HTTPS_PROXY,
    GCP_SECURITY_POLICY,
    GCP_SECURITY_POLICY_RULE,
    GCP_SSL_POLICY,
    GCP_URL_MAP,
)
from saas_policies.props import UNKNOWN, _config, _get, _is_list, _items


def _linked(resource: Any, key: str, types: Sequence[str], resources: Sequence[Any]) -> list[Any] | None:
    """The resources of `types` that `resource`'s property `key` refers to; None when that cannot be told.

    By the property's dependencies (what the engine reports for an input that is another resource's
    output), else by the resource's dependencies of those types, else by comparing a known value with
    the candidates' known id, selfLink or name.
    """
    value = _get(resource.props, key)
    if value is None:
        return []
    property_dependencies = getattr(resource, "property_dependencies", None) or {}
    if property_dependencies.get(key):
        return [dep for dep in property_dependencies[key] if dep.resource_type in types]
    candidates = [r for r in resources if r.resource_type in types]
    dependencies = [dep for dep in (getattr(resource, "dependencies", None) or []) if dep.resource_type in types]
    if len(dependencies) == 1:
        return dependencies
    if isinstance(value, str):
        found = [r for r in candidates if _refers_to(value, r)]
        if found:
            return found
    return None


def _refers_to(reference: str, resource: Any) -> bool:
    """Whether a reference (an id, a self link or a URL ending in the name) names `resource`."""
    for key in ("id", "selfLink", "name"):
        known = _get(resource.props, key)
        if isinstance(known, str) and known and (reference == known or reference.endswith("/" + known)):
            return True
    return False


def _armor_action(rule: Any) -> Any:
    action = _get(rule, "action")
    return action.strip().lower() if isinstance(action, str) else action


def _armor_admits(rule: Any) -> bool:
    return _armor_action(rule) in ARMOR_ADMITTING_ACTIONS


def _armor_denies(rule: Any) -> bool:
    action = _armor_action(rule)
    return isinstance(action, str) and action.startswith("deny")


def _armor_expression(rule: Any) -> Any:
    return _get(rule, "match", "expr", "expression")


def _armor_ranges(rule: Any) -> list[Any]:
    """The source ranges a Cloud Armor rule matches: srcIpRanges and inIpRange(origin.ip, ...) calls."""
    ranges = _items(_get(rule, "match", "config", "srcIpRanges"))
    expression = _armor_expression(rule)
    if isinstance(expression, str):
        ranges += _ARMOR_IP_RANGE.findall(expression)
    return ranges


def _armor_rule_problems(rule: Any, networks: list) -> list[str]:
    """What in one Cloud Armor rule admits traffic from somewhere other than Cloudflare."""
    if not isinstance(rule, Mapping) or not _armor_admits(rule):
        return []
    if _get(rule, "match") is UNKNOWN or _armor_action(rule) is UNKNOWN:
        return []
    ranges = _armor_ranges(rule)
    if any(isinstance(cidr, str) and cidr.strip() == "*" for cidr in ranges):
        return ["every address (\"*\")"]
    if not ranges:
        expression = _armor_expression(rule)
        if expression is UNKNOWN or _get(rule, "match", "config", "srcIpRanges") is UNKNOWN:
            return []
        return ["requests from any address (its match names no source range)"]
    outside = _outside_cloudflare(ranges, networks)
    return [f"addresses outside Cloudflare's ranges: {', '.join(outside)}"] if outside else []


def _default_rule_problem(rules: list[Any]) -> str | None:
    defaults = [rule for rule in rules if isinstance(rule, Mapping)
                and _get(rule, "priority") == ARMOR_DEFAULT_PRIORITY]
    if not defaults:
        if any(rule is UNKNOWN or _get(rule, "priority") is UNKNOWN for rule in rules):
            return None
        return (f"has no default rule (priority {ARMOR_DEFAULT_PRIORITY}); Google then adds one that allows "
                "every request")
    for rule in defaults:
        if _armor_action(rule) is UNKNOWN:
            continue
        if not _armor_denies(rule):
            return f"has a default rule that does not deny (action {_armor_action(rule)!r})"
        if _get(rule, "preview") is True:
            return "has its default deny rule in preview mode, so it is logged and not enforced"
    return None


def _validate_cloud_armor(args: ResourceValidationArgs, report: ReportViolation) -> None:
    networks = _cloudflare_networks(_config(args))
    if args.resource_type == GCP_SECURITY_POLICY:
        rules = _items(_get(args.props, "rules"))
        if _get(args.props, "rules") is UNKNOWN:
            return
        if not rules:
            report(f"Cloud Armor policy {args.name!r} has no rules: Google adds a default rule that allows every "
                   "request, so the load balancer is open to everyone.")
            return
        problem = _default_rule_problem(rules)
        if problem:
            report(f"Cloud Armor policy {args.name!r} {problem}: the load balancer must deny everything that is "
                   "not Cloudflare.")
        for index, rule in enumerate(rules):
            for problem in _armor_rule_problems(rule, networks):
                report(f"Cloud Armor policy {args.name!r} rules[{index}] (priority {_get(rule, 'priority')}) "
                       f"allows {problem}; the load balancer must be reachable only through Cloudflare.")
    elif args.resource_type == GCP_SECURITY_POLICY_RULE:
        for problem in _armor_rule_problems(args.props, networks):
            report(f"Cloud Armor rule {args.name!r} allows {problem}; the load balancer must be reachable only "
                   "through Cloudflare.")
        if _get(args.props, "priority") == ARMOR_DEFAULT_PRIORITY and _armor_admits(args.props):
            report(f"Cloud Armor rule {args.name!r} is the default rule and allows: it must deny.")
    elif args.resource_type == GCP_BACKEND_SERVICE:
        scheme = _get(args.props, "loadBalancingScheme")
        if scheme not in (None, UNKNOWN, "EXTERNAL", "EXTERNAL_MANAGED"):
            return  # internal load balancing: not reachable from the internet
        if _get(args.props, "securityPolicy") is None:
            report(f"backend service {args.name!r} has no Cloud Armor security policy (securityPolicy): every "
                   "address on the internet reaches the application through the load balancer, not only "
                   "Cloudflare.")


cloud_armor_cloudflare_only = ResourceValidationPolicy(
    name="cloud-armor-cloudflare-only",
    description="Google Cloud: every external backend service has a Cloud Armor policy; its allow rules admit only "
                "Cloudflare's published ranges (no \"*\", 0.0.0.0/0, ::/0 or other CIDRs) and its default rule "
                "denies.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CLOUDFLARE_RANGES_CONFIG,
    validate=_validate_cloud_armor,
)


def _validate_gcp_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == GCP_SSL_POLICY:
        version = _get(args.props, "minTlsVersion")
        if version is UNKNOWN:
            return
        if version is None:
            report(f"SSL policy {args.name!r} sets no minTlsVersion; Google's default is TLS_1_0. Set \"TLS_1_2\".")
        elif version not in GCP_ACCEPTED_MIN_TLS_VERSIONS:
            report(f"SSL policy {args.name!r} accepts {version}; the minimum is TLS 1.2 (minTlsVersion "
                   "\"TLS_1_2\" or \"TLS_1_3\").")
    elif args.resource_type == GCP_HTTPS_PROXY:
        if _get(args.props, "sslPolicy") is None:
            report(f"HTTPS proxy {args.name!r} names no sslPolicy; Google's default SSL policy accepts TLS 1.0. "
                   "Attach an SSL policy with minTlsVersion TLS_1_2.")


gcp_https_proxy_modern_tls = ResourceValidationPolicy(
    name="gcp-https-proxy-modern-tls",
    description="Google Cloud: every HTTPS target proxy has an SSL policy, and every SSL policy's minTlsVersion is "
                "TLS_1_2 or TLS_1_3.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_gcp_tls,
)


def _url_map_problems(url_map: Any) -> list[str]:
    problems = []
    for key in ("defaultService", "defaultRouteAction", "hostRules", "pathMatchers"):
        value = _get(url_map.props, key)  # an unknown backend is still a backend
        if value is not None and (not _is_list(value) or len(value)):
            problems.append(f"sets {key} (it serves requests instead of redirecting them)")
    redirect = _get(url_map.props, "defaultUrlRedirect")
    if redirect is None:
        problems.append("has no defaultUrlRedirect")
    elif redirect is not UNKNOWN and _get(redirect, "httpsRedirect") not in (True, UNKNOWN):
        problems.append("has a defaultUrlRedirect without httpsRedirect = true (it would redirect to HTTP)")
    return problems


def _validate_gcp_http_redirects(args: StackValidationArgs, report: ReportViolation) -> None:
    for proxy in args.resources:
        if proxy.resource_type != GCP_HTTP_PROXY:
            continue
        url_maps = _linked(proxy, "urlMap", (GCP_URL_MAP,), args.resources)
        for url_map in url_maps or []:
            problems = _url_map_problems(url_map)
            if problems:
                report(f"URL map {url_map.name!r} behind the plain-HTTP proxy {proxy.name!r} {' and '.join(problems)}; "
                       "port 80 must only redirect to HTTPS (anything else serves the application unencrypted).",
                       url_map.urn)


gcp_http_proxy_redirects_to_https = StackValidationPolicy(
    name="gcp-http-proxy-redirects-to-https",
    description="Google Cloud: a URL map behind a plain-HTTP target proxy only redirects to HTTPS "
                "(defaultUrlRedirect with httpsRedirect, no service, route action, host rules or path matchers).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_gcp_http_redirects,
)
