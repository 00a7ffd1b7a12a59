"""The saas-domains policies: the invariants the program keeps, checked on what a preview would deploy.

Importable without side effects (the pack itself is built in `__main__.py`, because constructing a
`PolicyPack` starts its gRPC server), so the tests call each policy's `validate` directly.

Every check reads resource properties through `_get`/`_items`, which turn a value that is unknown
during a preview (an ARN, an ALB DNS name) into `UNKNOWN` instead of letting pulumi-policy's
`UnknownValueError` abort the whole policy: a check that cannot be decided yet is skipped, and the
same policies run again at `pulumi up`, when the values are known.

One module of about 1,000 lines (the ALB's checks and the Google Cloud load balancer's), on purpose:
the pack runs in its own environment from this folder alone (it cannot import `infra`), the policies
are short independent functions, and the tests load this one file by path. Copies it must keep
(type strings, Cloudflare's ranges, the explicit SSL fields) are held equal to the program's (and the
Google Cloud types to the locked pulumi-gcp SDK's) by tests/model/test_names.py and tests/test_policy.py.

The pack needs no Pulumi or stack configuration. Optional policy configuration (a JSON file given
with `--policy-pack-config`) can set the SaaS zone, Cloudflare's address ranges, the accepted ALB
TLS policies and whether origin authentication is required; see each policy's `config_schema`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

PACK_NAME = "saas-domains"

CUSTOM_HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
FALLBACK_ORIGIN = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"
DNS_RECORDS = ("cloudflare:index/dnsRecord:DnsRecord", "cloudflare:index/record:Record")
RULESET = "cloudflare:index/ruleset:Ruleset"
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"
SHARED_TRANSFORM_RULE_INPUTS = ("zone_id", "expression", "description", "header_name", "header_value")
AOP_SETTINGS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
AOP_CERTIFICATE = "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"
NOTIFICATION_WEBHOOK = "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
# The Google Cloud origin (a global external Application Load Balancer in front of Cloud Run).
GCP_SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
GCP_SECURITY_POLICY_RULE = "gcp:compute/securityPolicyRule:SecurityPolicyRule"
GCP_BACKEND_SERVICE = "gcp:compute/backendService:BackendService"
GCP_SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
GCP_HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
GCP_HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
GCP_URL_MAP = "gcp:compute/uRLMap:URLMap"
GCP_SERVER_TLS_POLICY = "gcp:networksecurity/serverTlsPolicy:ServerTlsPolicy"
GCP_TRUST_CONFIG = "gcp:certificatemanager/trustConfig:TrustConfig"

# https://www.cloudflare.com/ips/ (what cloudflare.get_ip_ranges returns); override with policy config.
CLOUDFLARE_IPV4 = (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
)
CLOUDFLARE_IPV6 = (
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
)

# ALB policies whose lowest protocol is TLS 1.2: the TLS13-1-2/1-3 families (with their Res, Ext,
# FIPS and PQ variants), TLS-1-2 and FS-1-2. AWS's default, ELBSecurityPolicy-2016-08, allows TLS 1.0.
MODERN_SSL_POLICY = re.compile(r"ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)-[A-Za-z0-9-]+\Z")
ACCEPTED_MIN_TLS_VERSIONS = ("1.2", "1.3")
# The ssl fields the provider overwrites from the API when they are unset (provider issue #5521).
EXPLICIT_SSL_FIELDS = ("type", "method", "wildcard", "bundleMethod")
EXPLICIT_SSL_SETTINGS = ("minTlsVersion", "http2", "tls13", "earlyHints")
HEADER_PHASE = "http_request_late_transform"
# Google Cloud: SSL policy minimums that refuse TLS 1.0 and 1.1 (the API's default, and Google's default
# policy when a proxy names none, is TLS_1_0); Cloud Armor's lowest-priority (default) rule.
GCP_ACCEPTED_MIN_TLS_VERSIONS = ("TLS_1_2", "TLS_1_3")
ARMOR_DEFAULT_PRIORITY = 2147483647
ARMOR_ADMITTING_ACTIONS = ("allow", "throttle", "rate_based_ban")  # the last two admit conforming traffic
_ARMOR_IP_RANGE = re.compile(r"inIpRange\(\s*origin\.ip\s*,\s*['\"]([^'\"]+)['\"]\s*\)")
_ARMOR_HEADER = re.compile(r"request\.headers\[\s*['\"]([^'\"]+)['\"]\s*\]")


# --------------------------------------------------------------------------
# Reading properties that may be unknown during a preview
# --------------------------------------------------------------------------


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
_UNKNOWN_SENTINELS = frozenset({UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE,
                                UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE})


def _known(value: Any) -> Any:
    return UNKNOWN if isinstance(value, str) and value in _UNKNOWN_SENTINELS else value


def _get(value: Any, *path: str | int) -> Any:
    """`value[path[0]][path[1]]...`: None when absent, UNKNOWN when not known yet."""
    for key in path:
        if value is None or value is UNKNOWN:
            return value
        try:
            if isinstance(key, int):
                if not _is_list(value) or not -len(value) <= key < len(value):
                    return None
                value = value[key]
            else:
                if not isinstance(value, Mapping) or key not in value:
                    return None
                value = value[key]
        except UnknownValueError:
            return UNKNOWN
        value = _known(value)
    return value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _items(value: Any) -> list[Any]:
    """The elements of a list property (unknown ones as UNKNOWN); [] for None, UNKNOWN or a non-list."""
    if not _is_list(value):
        return []
    result = []
    for index in range(len(value)):
        try:
            result.append(_known(value[index]))
        except UnknownValueError:
            result.append(UNKNOWN)
    return result


def _name(value: Any) -> Any:
    """A DNS name compared the way DNS compares it: lower case, no final dot, A-labels."""
    if not isinstance(value, str):
        return value
    name = value.strip().lower().rstrip(".")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")  # IDNA 2003 is enough to compare names here
        except UnicodeError:
            pass
    return name


def _in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _config(args: ResourceValidationArgs | StackValidationArgs) -> Mapping[str, Any]:
    try:
        return args.get_config() or {}
    except Exception:  # noqa: BLE001 (a pack without config must still run)
        return {}


def _listener_protocol(props: Mapping[str, Any]) -> Any:
    protocol = _get(props, "protocol")
    return protocol.upper() if isinstance(protocol, str) else protocol


def _forwards(action: Any) -> bool:
    """True when an ALB action sends the request to a target group."""
    if action is UNKNOWN or not isinstance(action, Mapping):
        return False
    return _get(action, "type") == "forward" or _get(action, "forward") not in (None, UNKNOWN)


def _forwards_by_default(listener_props: Mapping[str, Any]) -> bool:
    return any(_forwards(action) for action in _items(_get(listener_props, "defaultActions")))


def _verifies_client_certificates(listener_props: Mapping[str, Any]) -> bool:
    """ALB mutual TLS in verify mode (Authenticated Origin Pulls); passthrough and off verify nothing."""
    return _get(listener_props, "mutualAuthentication", "mode") == "verify"


# --------------------------------------------------------------------------
# Custom hostnames: TLS 1.2 or better, every drifting ssl field set
# --------------------------------------------------------------------------


def _validate_min_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CUSTOM_HOSTNAME:
        return
    version = _get(args.props, "ssl", "settings", "minTlsVersion")
    if version is UNKNOWN:
        return
    if version is None:
        report(f"custom hostname {args.name!r} sets no ssl.settings.minTlsVersion; Cloudflare's default "
               "accepts TLS 1.0. Set \"1.2\" or \"1.3\".")
    elif version not in ACCEPTED_MIN_TLS_VERSIONS:
        report(f"custom hostname {args.name!r} accepts TLS {version}; the minimum is TLS 1.2 "
               "(ssl.settings.minTlsVersion \"1.2\" or \"1.3\").")


custom_hostname_min_tls = ResourceValidationPolicy(
    name="custom-hostname-min-tls",
    description="Every custom hostname refuses TLS below 1.2 (ssl.settings.minTlsVersion 1.2 or 1.3).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_min_tls,
)


def _validate_explicit_ssl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CUSTOM_HOSTNAME:
        return
    ssl = _get(args.props, "ssl")
    if ssl is UNKNOWN:
        return
    if not isinstance(ssl, Mapping):
        report(f"custom hostname {args.name!r} has no ssl block; set every ssl field explicitly "
               "(unset ones drift: provider issue #5521).")
        return
    missing = [f"ssl.{key}" for key in EXPLICIT_SSL_FIELDS if _get(ssl, key) is None]
    settings = _get(ssl, "settings")
    if settings is not UNKNOWN:
        missing += [f"ssl.settings.{key}" for key in EXPLICIT_SSL_SETTINGS if _get(settings, key) is None]
    if missing:
        report(f"custom hostname {args.name!r} leaves {', '.join(missing)} unset; the provider then shows a "
               "diff on every preview and rewrites the hostname on every `up` (provider issue #5521).")


custom_hostname_explicit_ssl = ResourceValidationPolicy(
    name="custom-hostname-explicit-ssl",
    description="Every custom hostname sets ssl type, method, wildcard, bundleMethod and "
                "settings.minTlsVersion/http2/tls13/earlyHints explicitly (unset ones drift).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_explicit_ssl,
)


# --------------------------------------------------------------------------
# Certificate alerts: the webhook destination is https
# --------------------------------------------------------------------------


def _https_with_host(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() == "https" and bool(parts.hostname)
    except ValueError:
        return False


def _validate_alert_webhook_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != NOTIFICATION_WEBHOOK:
        return
    url = _get(args.props, "url")
    if url is UNKNOWN or url is None:  # unknown until `up`, or missing (the provider refuses that itself)
        return
    if not isinstance(url, str) or not _https_with_host(url):
        report(f"notification webhook {args.name!r} does not send to an https:// URL with a host: Cloudflare sends "
               "the webhook's shared secret (cf-webhook-auth header) and the alert with every notification, in "
               "clear text over http (the URL is a secret and not shown).")


alert_webhook_https = ResourceValidationPolicy(
    name="alert-webhook-https",
    description="Every cloudflare.NotificationPolicyWebhooks url is https:// with a host (its cf-webhook-auth secret "
                "travels with every notification). The url is a Pulumi secret: the engine hands policies secret "
                "inputs decrypted, so the policy sees it, and never prints it; during a preview a url computed "
                "from other resources is unknown and checked at `up`.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_alert_webhook_https,
)


# --------------------------------------------------------------------------
# ALB: Cloudflare-only ingress, modern TLS, HTTP only redirects
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Google Cloud load balancer: Cloudflare-only Cloud Armor, TLS 1.2+, HTTP only redirects
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Origin authentication: a secret header the listener requires, or mutual TLS it verifies
# --------------------------------------------------------------------------


def _validate_listener_authenticates(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LISTENERS or _listener_protocol(args.props) != "HTTPS":
        return
    if _forwards_by_default(args.props) and not _verifies_client_certificates(args.props):
        report(f"HTTPS listener {args.name!r} forwards every request by default and verifies no client "
               "certificate, so any Cloudflare account can reach the application through Cloudflare's shared "
               "addresses: origin authentication is off (saas-domains:originAuth none) or broken. Use the "
               "secret header (a fixed-response 403 default and a listener rule on the header) or mutual TLS.")


origin_auth_https_listener = ResourceValidationPolicy(
    name="origin-auth-https-listener",
    description="The HTTPS listener serves only authenticated requests: it denies by default (secret header) "
                "or verifies client certificates (mutual TLS).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate_listener_authenticates,
)


def _header_rules(resources: Sequence[Any]) -> list[tuple[Any, str, list[Any]]]:
    """(listener rule, header name, values) for listener rules that forward on an HTTP header."""
    found = []
    for resource in resources:
        if resource.resource_type not in LISTENER_RULES:
            continue
        if not any(_forwards(action) for action in _items(_get(resource.props, "actions"))):
            continue
        for condition in _items(_get(resource.props, "conditions")):
            header = _get(condition, "httpHeader")
            name = _get(header, "httpHeaderName")
            if isinstance(name, str) or name is UNKNOWN:
                found.append((resource, name, _items(_get(header, "values"))))
    return found


def _header_rulesets(resources: Sequence[Any]) -> list[tuple[Any, str, Any]]:
    """(ruleset, header name, value) for every request header an enabled late-transform rule sets.

    With saas-domains:transformRules shared the rule is a dynamic resource of the program
    (infra/components/shared_transform_rule.py) that puts one header rule in the zone's entrypoint:
    it counts as a ruleset setting its `header_name` to its `header_value`.
    """
    found = []
    for resource in resources:
        if resource.resource_type == DYNAMIC_RESOURCE and set(SHARED_TRANSFORM_RULE_INPUTS) <= set(resource.props):
            found.append((resource, _get(resource.props, "header_name"), _get(resource.props, "header_value")))
            continue
        if resource.resource_type != RULESET or _get(resource.props, "phase") != HEADER_PHASE:
            continue
        for rule in _items(_get(resource.props, "rules")):
            if _get(rule, "enabled") is False or _get(rule, "action") not in ("rewrite", UNKNOWN):
                continue
            headers = _get(rule, "actionParameters", "headers")
            if not isinstance(headers, Mapping):
                continue
            for name in list(headers):
                if _get(headers, name, "operation") in ("set", "add", UNKNOWN):
                    found.append((resource, name, _get(headers, name, "value")))
    return found


def _rule_is_on(rule: Any, listener: Any) -> bool:
    """Whether a listener rule belongs to `listener` (by property dependency, else by known ARN)."""
    dependencies = getattr(rule, "property_dependencies", None) or {}
    if "listenerArn" in dependencies:
        return any(dep.urn == listener.urn for dep in dependencies["listenerArn"])
    rule_arn, listener_arn = _get(rule.props, "listenerArn"), _get(listener.props, "arn")
    if isinstance(rule_arn, str) and isinstance(listener_arn, str):
        return rule_arn == listener_arn
    return True  # cannot tell during a preview: give it the benefit of the doubt


def _validate_origin_auth(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = args.resources
    listeners = [r for r in resources
                 if r.resource_type in LISTENERS and _listener_protocol(r.props) == "HTTPS"]
    rules = _header_rules(resources)
    rulesets = _header_rulesets(resources)
    denying = [listener for listener in listeners if not _forwards_by_default(listener.props)]
    verifying = [listener for listener in listeners if _verifies_client_certificates(listener.props)]
    pull_settings = [r for r in resources if r.resource_type == AOP_SETTINGS]
    pulls_enabled = [_get(r.props, "enabled") for r in pull_settings]
    pull_certificates = [r for r in resources if r.resource_type == AOP_CERTIFICATE]
    # The Google Cloud origin: HTTPS proxies (mutual TLS by a server TLS policy) behind Cloud Armor (the header).
    proxies = [r for r in resources if r.resource_type == GCP_HTTPS_PROXY]
    armor = [(policy, _armor_rules_of(policy, resources))
             for policy in resources if policy.resource_type == GCP_SECURITY_POLICY]
    gcp = bool(proxies or armor)
    armor_headers = any(_armor_headers(rule) for _, armor_rules in armor for rule in armor_rules)
    server_tls = [r for r in resources if r.resource_type == GCP_SERVER_TLS_POLICY]
    gcp_verifying = _gcp_verifying(proxies, resources, None)
    header_configured = bool(rules or rulesets or denying or armor_headers)
    mtls_configured = bool(verifying or gcp_verifying or server_tls or True in pulls_enabled or pull_certificates)
    if not (header_configured or mtls_configured):
        if _config(args).get("required"):
            report("origin authentication is off: no HTTPS listener denies by default or verifies client "
                   "certificates, no listener rule checks a secret header and the zone sends no client "
                   "certificate (the policy config requires origin authentication).")
        return
    for listener in listeners:
        if listener not in denying and listener not in verifying:
            report(f"HTTPS listener {listener.name!r} forwards by default and verifies no client certificate "
                   "although origin authentication is configured: it is not enforced.", listener.urn)
    if gcp and not header_configured:
        for proxy in proxies:
            if proxy not in gcp_verifying:
                report(f"HTTPS proxy {proxy.name!r} verifies no client certificate and no Cloud Armor policy "
                       "checks a secret header although origin authentication is configured: it is not enforced.",
                       proxy.urn)
    # An origin of the team's own (saas-domains:origin external): no listener or load balancer in the stack,
    # so only the zone's side can be judged here; the origin's checks are the team's (README).
    origin_outside = not (listeners or gcp or any(r.resource_type in LOAD_BALANCERS for r in resources))
    if header_configured:
        if origin_outside:
            if not rulesets:
                report(f"no Cloudflare ruleset in phase {HEADER_PHASE} sets a request header: the origin "
                       "would refuse every request.")
        elif listeners or not gcp:
            _check_secret_header(denying, verifying, rules, rulesets, report)
        if gcp:
            _check_gcp_secret_header(armor, rulesets, report)
    if mtls_configured:
        if gcp:
            _gcp_verifying(proxies, resources, report)
        if origin_outside:
            _check_zone_certificate(pulls_enabled, pull_certificates, report)
        else:
            _check_mutual_tls(verifying + gcp_verifying, pulls_enabled, pull_certificates, report,
                              gcp=gcp and not listeners)


def _check_secret_header(denying, verifying, rules, rulesets, report: ReportViolation) -> None:
    for listener in denying:
        if listener not in verifying and not any(_rule_is_on(rule, listener) for rule, _, _ in rules):
            report(f"HTTPS listener {listener.name!r} denies by default but no listener rule on it forwards "
                   "requests carrying the secret header: every request would be refused.", listener.urn)
    if not rulesets:
        report(f"no Cloudflare ruleset in phase {HEADER_PHASE} sets a request header: the ALB would refuse "
               "every request.")
    set_headers = {str(name).lower(): value for _, name, value in rulesets if name is not UNKNOWN}
    for rule, name, values in rules:
        if name is UNKNOWN or not rulesets:
            continue
        if name.lower() not in set_headers:
            report(f"listener rule {rule.name!r} checks header {name!r}, which no Cloudflare ruleset sets "
                   f"(they set: {', '.join(sorted(set_headers)) or 'nothing'}).", rule.urn)
            continue
        sent = set_headers[name.lower()]
        if not values:
            report(f"listener rule {rule.name!r} checks header {name!r} without values.", rule.urn)
        elif isinstance(sent, str) and UNKNOWN not in values and sent not in values:
            report(f"listener rule {rule.name!r} expects other values for header {name!r} than the Cloudflare "
                   "ruleset sends (values not shown: they are secret).", rule.urn)


def _armor_headers(rule: Any) -> set[str]:
    """The request headers a Cloud Armor rule's expression reads (Cloud Armor lower-cases their names)."""
    expression = _armor_expression(rule)
    return {name.lower() for name in _ARMOR_HEADER.findall(expression)} if isinstance(expression, str) else set()


def _armor_rules_of(policy: Any, resources: Sequence[Any]) -> list[Any]:
    """A Cloud Armor policy's rules: inline ones and separate SecurityPolicyRule resources on it."""
    rules = [rule for rule in _items(_get(policy.props, "rules")) if isinstance(rule, Mapping)]
    policies = [r for r in resources if r.resource_type == GCP_SECURITY_POLICY]
    for resource in resources:
        if resource.resource_type != GCP_SECURITY_POLICY_RULE:
            continue
        linked = _linked(resource, "securityPolicy", (GCP_SECURITY_POLICY,), resources)
        if any(p.urn == policy.urn for p in linked or []) or (linked is None and len(policies) == 1):
            rules.append(resource.props)
    return rules


def _priority(rule: Any) -> int | None:
    value = _get(rule, "priority")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ungated(rules: list[Any], header: str) -> list[Any]:
    """The rules that admit a request before anything has checked `header`."""
    gates = [_priority(rule) for rule in rules if _armor_denies(rule) and _get(rule, "preview") is not True
             and header in _armor_headers(rule) and _priority(rule) is not None]
    first_gate = min(gates, default=None)
    return [rule for rule in rules if _armor_admits(rule) and _priority(rule) is not None
            and header not in _armor_headers(rule) and (first_gate is None or _priority(rule) < first_gate)]


def _check_gcp_secret_header(armor: list[tuple[Any, list[Any]]], rulesets, report: ReportViolation) -> None:
    set_headers = {str(name).lower(): value for _, name, value in rulesets if name is not UNKNOWN}
    if not rulesets and any(_armor_headers(rule) for _, rules in armor for rule in rules):
        report(f"no Cloudflare ruleset in phase {HEADER_PHASE} sets a request header: the load balancer's Cloud "
               "Armor policy would refuse every request.")
        return
    if rulesets and not armor:
        report("a Cloudflare ruleset sets the secret header but the stack has no Cloud Armor policy to require it: "
               "origin authentication is not enforced.")
    for policy, rules in armor:
        checked = set().union(*(_armor_headers(rule) for rule in rules)) if rules else set()
        for name in sorted(checked - set(set_headers)):
            report(f"Cloud Armor policy {policy.name!r} checks header {name!r}, which no Cloudflare ruleset sets "
                   f"(they set: {', '.join(sorted(set_headers)) or 'nothing'}).", policy.urn)
        required = sorted(checked & set(set_headers))
        if set_headers and not required:
            report(f"Cloud Armor policy {policy.name!r} does not require the secret header "
                   f"{', '.join(sorted(set_headers))!r} that the Cloudflare ruleset sets: any Cloudflare account "
                   "reaches the application through Cloudflare's shared addresses.", policy.urn)
        for header in required:
            for rule in _ungated(rules, header):
                report(f"Cloud Armor policy {policy.name!r} rule (priority {_priority(rule)}) allows requests "
                       f"before any rule checks the secret header {header!r}: origin authentication is not "
                       "enforced (deny requests without it at a lower priority number, or check it in the allow "
                       "rule).", policy.urn)
            sent = set_headers[header]
            for rule in rules:
                expression = _armor_expression(rule)
                if (header in _armor_headers(rule) and isinstance(sent, str) and isinstance(expression, str)
                        and sent not in expression):
                    report(f"Cloud Armor policy {policy.name!r} rule (priority {_priority(rule)}) expects another "
                           f"value of header {header!r} than the Cloudflare ruleset sends (values not shown: they "
                           "are secret).", policy.urn)


def _gcp_verifying(proxies: list[Any], resources: Sequence[Any], report: ReportViolation | None) -> list[Any]:
    """HTTPS proxies whose server TLS policy rejects clients without a certificate of a configured trust config."""
    verifying = []
    for proxy in proxies:
        if _get(proxy.props, "serverTlsPolicy") is None:
            continue
        policies = _linked(proxy, "serverTlsPolicy", (GCP_SERVER_TLS_POLICY,), resources)
        if policies is None:  # cannot tell during a preview: give it the benefit of the doubt
            verifying.append(proxy)
            continue
        problems = []
        for policy in policies:
            mode = _get(policy.props, "mtlsPolicy", "clientValidationMode")
            if mode not in ("REJECT_INVALID", UNKNOWN):
                problems.append(f"server TLS policy {policy.name!r} has clientValidationMode {mode!r}, which lets "
                                "clients without a valid certificate through (use REJECT_INVALID)")
            if _get(policy.props, "mtlsPolicy", "clientValidationTrustConfig") is None:
                problems.append(f"server TLS policy {policy.name!r} names no clientValidationTrustConfig (the CA "
                                "whose client certificates it accepts)")
            for trust in _linked(policy, "mtlsPolicy", (GCP_TRUST_CONFIG,), resources) or []:
                anchors = [anchor for store in _items(_get(trust.props, "trustStores"))
                           for anchor in _items(_get(store, "trustAnchors"))]
                if _get(trust.props, "trustStores") is not UNKNOWN and not anchors:
                    problems.append(f"trust config {trust.name!r} holds no trust anchor")
        if problems and report is not None:
            for problem in problems:
                report(f"HTTPS proxy {proxy.name!r}: {problem}.", proxy.urn)
        if policies and not problems:
            verifying.append(proxy)
    return verifying


def _check_mutual_tls(verifying, pulls_enabled, pull_certificates, report: ReportViolation, *,
                      gcp: bool = False) -> None:
    if verifying and True not in pulls_enabled and UNKNOWN not in pulls_enabled:
        report(f"the {'load balancer' if gcp else 'ALB'} verifies client certificates but the zone does not "
               "enable Authenticated Origin Pulls (cloudflare.AuthenticatedOriginPullsSettings enabled = true): "
               "every request would be refused.", verifying[0].urn)
    if (True in pulls_enabled or pull_certificates) and not verifying:
        if gcp:
            report("the zone sends client certificates (Authenticated Origin Pulls) but no HTTPS proxy verifies "
                   "them (a server TLS policy with mtlsPolicy.clientValidationMode REJECT_INVALID and a trust "
                   "config): origin authentication is not enforced.")
        else:
            report("the zone sends client certificates (Authenticated Origin Pulls) but no HTTPS listener verifies "
                   "them (mutualAuthentication mode \"verify\"): origin authentication is not enforced.")
    _check_zone_certificate(pulls_enabled, pull_certificates, report)


def _check_zone_certificate(pulls_enabled, pull_certificates, report: ReportViolation) -> None:
    if True in pulls_enabled and not pull_certificates:
        report("Authenticated Origin Pulls is enabled without a certificate of the zone's own "
               "(cloudflare.AuthenticatedOriginPullsCertificate): Cloudflare then presents its shared "
               "certificate, which every Cloudflare zone presents, so it proves nothing about this zone.")


origin_auth_complete = StackValidationPolicy(
    name="origin-auth-complete",
    description="When origin authentication is configured, all of it is: with the secret header, the HTTPS "
                "listener denies by default, a listener rule forwards requests with the header and a "
                f"Cloudflare {HEADER_PHASE} ruleset sets it; with mutual TLS, the listener verifies client "
                "certificates and the zone enables Authenticated Origin Pulls with a certificate of its own. On "
                "Google Cloud: every Cloud Armor policy requires the header the ruleset sets before it allows "
                "anything, or the HTTPS proxy's server TLS policy rejects invalid client certificates "
                "(REJECT_INVALID, with a trust config).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "required": {"type": "boolean", "default": False,
                     "description": "Also fail a stack without any origin authentication (originAuth none)"},
    }),
    validate=_validate_origin_auth,
)


# --------------------------------------------------------------------------
# Cloudflare edge: fallback and wildcard records proxied; no custom hostname in the SaaS zone
# --------------------------------------------------------------------------


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


POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    custom_hostname_min_tls,
    custom_hostname_explicit_ssl,
    edge_records_proxied,
    alb_ingress_cloudflare_only,
    https_listener_modern_tls,
    http_listener_redirects_to_https,
    cloud_armor_cloudflare_only,
    gcp_https_proxy_modern_tls,
    gcp_http_proxy_redirects_to_https,
    origin_auth_https_listener,
    origin_auth_complete,
    no_custom_hostname_in_saas_zone,
    alert_webhook_https,
]
