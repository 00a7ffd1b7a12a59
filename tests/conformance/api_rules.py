"""The rules the providers' APIs enforce that no provider schema encodes, each with its source.

A schema says `description` is a string; EC2 refuses an apostrophe in it at `pulumi up`. Every row
here is such a rule, quoted from the API reference or the provider's validator it comes from, and
enforced by tests/components/test_conformance.py on every rendering of the program. Add a row whenever a real
deployment finds a rule the mock engine could not: that is how this table grows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from infra.components import fallback_origin_waiter
from infra.offline import DeclaredResource, Rendering

# ---------------------------------------------------------------------------------------------------
# Sources, each quoted once.
EC2_SG = ("EC2 API CreateSecurityGroup GroupDescription / IpRange Description: up to 255 characters, "
          "a-z A-Z 0-9 space and ._-:/()#,@[]+=&;{}!$*; terraform-provider-aws validSecurityGroupRuleDescription")
EC2_PROTOCOL = ("EC2 API IpPermission IpProtocol: tcp, udp, icmp, icmpv6, a protocol number, or -1 for all "
                "(terraform-provider-aws also takes 'all')")
ELB_TYPES = ("ELBv2 API: CreateLoadBalancer Type application | network | gateway; CreateTargetGroup Protocol "
             "HTTP | HTTPS for an ALB; MutualAuthenticationAttributes Mode off | passthrough | verify")
ELB_NAME = ("ELBv2 API CreateLoadBalancer/CreateTargetGroup/CreateTrustStore Name: at most 32 characters, "
            "alphanumerics and hyphens, not beginning or ending with a hyphen (load balancers: not 'internal-'); "
            "Pulumi autonaming appends '-' and 7 random characters")
ELB_HEADER = ("ELBv2 API HttpHeaderConditionConfig: HttpHeaderName at most 40 characters; each value at most "
              "128 characters, where * and ? are wildcards")
ELB_PRIORITY = "ELBv2 API CreateRule Priority: 1 to 50000"
ELB_FIXED = ("ELBv2 API FixedResponseActionConfig: StatusCode ^(2|4|5)\\d\\d$, ContentType text/plain, text/css, "
             "text/html, application/javascript or application/json, MessageBody at most 1024 characters")
ELB_REDIRECT = "ELBv2 API RedirectActionConfig: StatusCode HTTP_301 or HTTP_302; Protocol HTTP, HTTPS or #{protocol}"
ELB_LISTENER = ("ELBv2 API CreateListener: Port 1-65535; Protocol HTTP or HTTPS for an ALB; HTTPS needs a "
                "certificate and an SslPolicy")
ELB_TARGET_GROUP = ("pulumi-aws TargetGroup schema: port, protocol and vpc_id are 'Required when target_type is "
                    "instance, ip or alb. Does not apply when target_type is lambda'; health_check.protocol "
                    "'Cannot be specified when the target_type is lambda'; ELBv2 API CreateTargetGroup TargetType "
                    "instance | ip | lambda | alb")
ELB_HEALTH = ("ELBv2 API CreateTargetGroup: HealthCheckPath 1-1024 characters starting with /; Matcher HttpCode "
              "200-499 for an ALB")
ACM_DOMAIN = ("ACM API RequestCertificate DomainName: 'The first domain name you enter cannot exceed 64 octets, "
              "including periods'; ValidationMethod DNS or EMAIL")
S3_BUCKET = ("S3 bucket naming rules: 3-63 characters, lowercase letters, digits, dots and hyphens; Pulumi "
             "autonaming appends '-' and 7 random characters")
X509_CN = "RFC 5280 appendix A: ub-common-name INTEGER ::= 64"
CF_TTL = ("Cloudflare API DNS record ttl (OpenAPI dns-records_ttl): 1 means automatic, else 60-86400 (30 on "
          "Enterprise); proxied records always have automatic TTL")
CF_COMMENT = "Cloudflare DNS record attributes: comments hold at most 100 characters on Free and Pro zones"
CF_NAME = ("Cloudflare API DNS records: name is the full record name inside the zone, at most 255 characters "
           "(a bare label comes back as the FQDN and shows a diff: pulumi-cloudflare v6 notes)")
CF_HOSTNAME = ("Cloudflare API custom hostnames (OpenAPI tls-certificates-and-hostnames_hostname): at most "
               "255 characters")
CF_DCV = ("Cloudflare SSL docs, DigiCert offboarding for custom hostnames: 'CNAME and Email DCV will be deprecated. "
          "Customers will be required to use HTTP or TXT DCV'; wildcard hostnames need TXT DCV")
CF_CUSTOM_ORIGIN = ("Cloudflare for SaaS custom origin server: 'a valid hostname that has been added to your DNS "
                    "zone as an A, AAAA, or CNAME record' (OpenAPI custom_origin_server), proxied; Enterprise only")
CF_FALLBACK = ("Cloudflare API fallback origin: 'Origin should be a proxied A/AAAA/CNAME dns record' of the zone "
               "(OpenAPI tls-certificates-and-hostnames_errors)")
CF_ZONE_SSL = "Cloudflare API zone setting ssl: value off, flexible, full or strict"
CF_EXPRESSION = "Cloudflare Rules language: an expression holds at most 4,096 characters"
CF_HEADER_NAME = ("Cloudflare Transform Rules, request header modification: header names consist of "
                  "alphanumerics, - and _ ; operation set, add or remove")

EC2_DESCRIPTION = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$")
ELB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$")
AUTONAME_SUFFIX = 8  # "-" + 7 random characters


@dataclass(frozen=True)
class Context:
    """What a rule needs to know about the stack besides the resource itself."""

    zone: str

    @classmethod
    def of(cls, rendering: Rendering) -> Context:
        return cls(zone=rendering.config.get("saas-domains:zone", "").lower().rstrip("."))

    def in_zone(self, name: str) -> bool:
        return name == self.zone or name.endswith("." + self.zone)


Check = Callable[[Any, Context], str | None]


@dataclass(frozen=True)
class ResourceRule:
    resource_type: str  # a type token, fnmatch patterns allowed
    path: str  # "a.b[*].c", "$name" (the logical name) or "$" (all inputs)
    rule: str  # what the API demands, in a few words
    check: Check  # None when the value complies, else the problem
    source: str


@dataclass(frozen=True)
class StackRule:
    rule: str
    check: Callable[[Rendering, Context], Iterable[tuple[str, str]]]
    source: str


# ---------------------------------------------------------------------------------------------------
# Small checks


def ec2_description(value: Any, _: Context) -> str | None:
    if len(value) > 255:
        return f"{len(value)} characters, EC2 allows 255"
    bad = sorted({c for c in value if not EC2_DESCRIPTION.match(c)})
    return f"EC2 refuses the character(s) {' '.join(map(repr, bad))}" if bad else None


def autonamed(max_length: int, pattern: re.Pattern, what: str, *, lowercase: bool = False) -> Check:
    """The name Pulumi will generate from the logical name must fit the API's name rule."""

    def check(name: Any, _: Context) -> str | None:
        generated = len(name) + AUTONAME_SUFFIX
        if generated > max_length:
            return f"{what} name {name!r} plus Pulumi's suffix is {generated} characters, the API allows {max_length}"
        if not pattern.match(name) or (lowercase and name != name.lower()):
            return f"{what} name {name!r} has characters the API refuses"
        if name.startswith("internal-"):
            return f"{what} name must not begin with 'internal-'"
        return None

    return check


def explicit_name(max_length: int, pattern: re.Pattern, what: str) -> Check:
    def check(name: Any, _: Context) -> str | None:
        if len(name) > max_length or not pattern.match(name):
            return f"{what} name {name!r} breaks the API's name rule"
        return None

    return check


def at_most(limit: int, what: str = "value") -> Check:
    def check(value: Any, _: Context) -> str | None:
        return f"{what} is {len(value)} characters, the API allows {limit}" if len(value) > limit else None

    return check


def one_of(*allowed: Any) -> Check:
    def check(value: Any, _: Context) -> str | None:
        return None if value in allowed else f"{value!r} is not one of {', '.join(map(repr, allowed))}"

    return check


def in_range(low: int, high: int) -> Check:
    def check(value: Any, _: Context) -> str | None:
        return None if low <= value <= high else f"{value!r} is outside {low}-{high}"

    return check


def matches(pattern: str, what: str) -> Check:
    compiled = re.compile(pattern)

    def check(value: Any, _: Context) -> str | None:
        return None if compiled.match(str(value)) else f"{value!r} is not {what}"

    return check


def no_alb_wildcards(value: Any, _: Context) -> str | None:
    if len(value) > 128:
        return f"header value is {len(value)} characters, the ALB allows 128"
    return "the ALB reads * and ? in a header value as wildcards" if ("*" in value or "?" in value) else None


def dns_ttl(inputs: Any, _: Context) -> str | None:
    ttl = inputs.get("ttl")
    if ttl is None:
        return None
    if inputs.get("proxied") and ttl != 1:
        return f"a proxied record must use ttl 1 (automatic), got {ttl!r}"
    if ttl != 1 and not 60 <= ttl <= 86400:
        return f"ttl {ttl!r} must be 1 (automatic) or 60-86400"
    return None


def dns_name_in_zone(name: Any, context: Context) -> str | None:
    if len(name) > 255:
        return f"record name is {len(name)} characters, the API allows 255"
    bare = name.lstrip("*.") if name.startswith("*.") else name
    if not context.in_zone(bare):
        return f"record name {name!r} is not a full name inside the zone {context.zone!r}"
    return None


def target_group_shape(inputs: Any, _: Context) -> str | None:
    target_type = inputs.get("targetType", "instance")
    if target_type not in ("instance", "ip", "lambda", "alb"):
        return f"targetType {target_type!r} is not instance, ip, lambda or alb"
    present = [key for key in ("port", "protocol", "vpcId") if inputs.get(key) is not None]
    health_protocol = (inputs.get("healthCheck") or {}).get("protocol")
    if target_type == "lambda":
        sent = present + (["healthCheck.protocol"] if health_protocol is not None else [])
        return f"a lambda target group must not send {', '.join(sent)}" if sent else None
    missing = [key for key in ("port", "protocol", "vpcId") if key not in present]
    return f"a {target_type} target group needs {', '.join(missing)}" if missing else None


def https_listener(inputs: Any, _: Context) -> str | None:
    protocol = inputs.get("protocol")
    if protocol not in ("HTTP", "HTTPS"):
        return f"an ALB listener's protocol is HTTP or HTTPS, got {protocol!r}"
    if protocol == "HTTPS" and not (inputs.get("certificateArn") and inputs.get("sslPolicy")):
        return "an HTTPS listener needs certificateArn and sslPolicy"
    return None


def ssl_method(ssl: Any, _: Context) -> str | None:
    method = ssl.get("method")
    if method not in ("http", "txt"):
        return f"ssl.method {method!r}: only http and txt DCV remain"
    if ssl.get("wildcard") and method != "txt":
        return "a wildcard certificate needs ssl.method txt"
    return None


def custom_origin(value: Any, context: Context) -> str | None:
    if value == context.zone:
        return f"custom origin {value!r} is the zone apex; it must be a record inside the zone"
    if not context.in_zone(value):
        return f"custom origin {value!r} is outside the zone {context.zone!r}"
    return None


def zone_ssl_value(inputs: Any, _: Context) -> str | None:
    if inputs.get("settingId") == "ssl" and inputs.get("value") not in ("off", "flexible", "full", "strict"):
        return f"ssl value {inputs.get('value')!r} is not off, flexible, full or strict"
    return None


def header_names(headers: Any, _: Context) -> str | None:
    for name, header in headers.items():
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            return f"header name {name!r} has characters Cloudflare refuses"
        if (header or {}).get("operation") not in ("set", "add", "remove"):
            return f"header {name!r}: operation {header.get('operation')!r} is not set, add or remove"
    return None


# ---------------------------------------------------------------------------------------------------
# The table

SG = "aws:ec2/securityGroup:SecurityGroup"
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TRUST_STORE = "aws:lb/trustStore:TrustStore"
DNS = "cloudflare:index/dnsRecord:DnsRecord"
HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
FALLBACK = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"

RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(SG, "description", "EC2 description character set and length", ec2_description, EC2_SG),
    ResourceRule(SG, "ingress[*].description", "EC2 rule description character set and length",
                 ec2_description, EC2_SG),
    ResourceRule(SG, "egress[*].description", "EC2 rule description character set and length",
                 ec2_description, EC2_SG),
    ResourceRule(SG, "ingress[*].fromPort", "port range", in_range(0, 65535), EC2_SG),
    ResourceRule(SG, "egress[*].fromPort", "port range", in_range(0, 65535), EC2_SG),
    ResourceRule(SG, "*gress[*].protocol", "rule protocol", matches(r"^(tcp|udp|icmp|icmpv6|-1|\d{1,3})$",
                                                                  "tcp, udp, icmp, icmpv6, -1 or a protocol number"),
                 EC2_PROTOCOL),
    ResourceRule(LB, "loadBalancerType", "load balancer type", one_of("application", "network", "gateway"),
                 ELB_TYPES),
    ResourceRule(TG, "protocol", "ALB target group protocol", one_of("HTTP", "HTTPS"), ELB_TYPES),
    ResourceRule(LISTENER, "mutualAuthentication.mode", "mutual TLS mode", one_of("off", "passthrough", "verify"),
                 ELB_TYPES),
    ResourceRule(LB, "$name", "ALB name length and characters",
                 autonamed(32, ELB_NAME_PATTERN, "load balancer"), ELB_NAME),
    ResourceRule(LB, "name", "ALB name length and characters", explicit_name(32, ELB_NAME_PATTERN, "load balancer"),
                 ELB_NAME),
    ResourceRule(TG, "$name", "target group name length and characters",
                 autonamed(32, ELB_NAME_PATTERN, "target group"), ELB_NAME),
    ResourceRule(TG, "$", "target type and the fields it needs or forbids", target_group_shape, ELB_TARGET_GROUP),
    ResourceRule(TG, "port", "port range", in_range(1, 65535), ELB_TARGET_GROUP),
    ResourceRule(TG, "healthCheck.path", "health check path", matches(r"^/.{0,1023}$", "a path of 1-1024 characters"),
                 ELB_HEALTH),
    ResourceRule(TG, "healthCheck.matcher", "ALB matcher codes",
                 matches(r"^(?:[2-4]\d\d(?:-[2-4]\d\d)?)(?:,[2-4]\d\d(?:-[2-4]\d\d)?)*$", "200-499 codes"), ELB_HEALTH),
    ResourceRule(TRUST_STORE, "$name", "trust store name length and characters",
                 autonamed(32, ELB_NAME_PATTERN, "trust store"), ELB_NAME),
    ResourceRule(LISTENER, "$", "listener protocol and TLS fields", https_listener, ELB_LISTENER),
    ResourceRule(LISTENER, "port", "port range", in_range(1, 65535), ELB_LISTENER),
    ResourceRule("aws:lb/listener*", "*Actions[*].fixedResponse.statusCode", "fixed response status",
                 matches(r"^[245]\d\d$", "a 2XX, 4XX or 5XX code"), ELB_FIXED),
    ResourceRule("aws:lb/listener*", "*Actions[*].fixedResponse.contentType", "fixed response content type",
                 one_of("text/plain", "text/css", "text/html", "application/javascript", "application/json"),
                 ELB_FIXED),
    ResourceRule("aws:lb/listener*", "*Actions[*].fixedResponse.messageBody", "fixed response body length",
                 at_most(1024, "message body"), ELB_FIXED),
    ResourceRule("aws:lb/listener*", "*Actions[*].redirect.statusCode", "redirect status",
                 one_of("HTTP_301", "HTTP_302"), ELB_REDIRECT),
    ResourceRule("aws:lb/listener*", "*Actions[*].redirect.protocol", "redirect protocol",
                 one_of("HTTP", "HTTPS", "#{protocol}"), ELB_REDIRECT),
    ResourceRule(RULE, "priority", "rule priority", in_range(1, 50000), ELB_PRIORITY),
    ResourceRule(RULE, "conditions[*].httpHeader.httpHeaderName", "header name length", at_most(40, "header name"),
                 ELB_HEADER),
    ResourceRule(RULE, "conditions[*].httpHeader.values[*]", "header value length and wildcards", no_alb_wildcards,
                 ELB_HEADER),
    ResourceRule("aws:acm/certificate:Certificate", "domainName", "first domain name length",
                 at_most(64, "domain name"), ACM_DOMAIN),
    ResourceRule("aws:acm/certificate:Certificate", "validationMethod", "validation method", one_of("DNS", "EMAIL"),
                 ACM_DOMAIN),
    ResourceRule("aws:s3/bucket:Bucket", "$name", "bucket name",
                 autonamed(63, re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"), "bucket", lowercase=True), S3_BUCKET),
    ResourceRule("tls:index/*", "subject.commonName", "X.509 common name length", at_most(64, "common name"),
                 X509_CN),
    ResourceRule(DNS, "$", "TTL: automatic or 60-86400, automatic when proxied", dns_ttl, CF_TTL),
    ResourceRule(DNS, "comment", "comment length", at_most(100, "comment"), CF_COMMENT),
    ResourceRule(DNS, "name", "full record name inside the zone", dns_name_in_zone, CF_NAME),
    ResourceRule(HOSTNAME, "hostname", "hostname length", at_most(255, "hostname"), CF_HOSTNAME),
    ResourceRule(HOSTNAME, "ssl", "DCV method: http or txt, txt for wildcards", ssl_method, CF_DCV),
    ResourceRule(HOSTNAME, "customOriginServer", "custom origin inside the zone, not its apex", custom_origin,
                 CF_CUSTOM_ORIGIN),
    ResourceRule(FALLBACK, "origin", "fallback origin length", at_most(255, "origin"), CF_FALLBACK),
    ResourceRule("cloudflare:index/zoneSetting:ZoneSetting", "$", "ssl mode value", zone_ssl_value, CF_ZONE_SSL),
    ResourceRule("cloudflare:index/ruleset:Ruleset", "rules[*].expression", "expression length",
                 at_most(4096, "expression"), CF_EXPRESSION),
    ResourceRule("cloudflare:index/ruleset:Ruleset", "rules[*].actionParameters.headers", "header names and operations",
                 header_names, CF_HEADER_NAME),
)


def fallback_origin_is_a_proxied_record(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    proxied = {r.inputs.get("name") for r in rendering.of_type(DNS) if r.inputs.get("proxied")}
    for origin in rendering.of_type(FALLBACK):
        if origin.inputs.get("origin") not in proxied:
            yield (f"{FALLBACK} {origin.name}",
                   f"origin {origin.inputs.get('origin')!r} is not a proxied record this stack declares")


STACK_RULES: tuple[StackRule, ...] = (
    StackRule("the fallback origin is a proxied record of the zone", fallback_origin_is_a_proxied_record,
              CF_FALLBACK),
)



def fallback_origin_waiter_inputs(resource: DeclaredResource) -> Iterable[tuple[str, str]]:
    """The waiter's provider reads exactly these string inputs (infra/components/fallback_origin_waiter.py)."""
    expected = {fallback_origin_waiter.PROVIDER_KEY, *fallback_origin_waiter.INPUTS}
    for key in sorted(set(resource.inputs) - expected):
        yield key, "unknown property (the fallback-origin waiter's provider does not read it)"
    for key in sorted(expected):
        value = resource.inputs.get(key)
        if not isinstance(value, str) or not value:
            yield key, f"required string input is missing or not a string: {value!r}"


# Resources served by this project's own dynamic providers: no provider schema exists, so each
# declares what its provider accepts (resource → (path, problem) pairs).
OWN_PROVIDER_RESOURCES: dict[str, Callable[[DeclaredResource], Iterable[tuple[str, str]]]] = {
    fallback_origin_waiter.WAITER_TYPE: fallback_origin_waiter_inputs,
}
